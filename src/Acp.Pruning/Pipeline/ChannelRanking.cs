using Acp.Onnx.Channels;
using Acp.Pruning.Clustering;
using Acp.Pruning.Search;

namespace Acp.Pruning.Pipeline;

/// <summary>
/// Which channels a group keeps, the one place this is decided: for each group, the order in which its channels are
/// kept (cluster representatives, L1 norms, or a seeded random order), and a structure (a width per group) becomes
/// keep-sets by taking the first width channels of each order. The search decides how many channels; this decides
/// which. A fraction removed from every group becomes widths through <see cref="Budget.UniformWidths"/>.
/// </summary>
public sealed class ChannelRanking
{
    private readonly ChannelAnalysis _analysis;
    private readonly IReadOnlyList<ChannelGroup> _groups;
    private readonly Dictionary<int, IReadOnlyList<int>> _orders;

    private ChannelRanking(ChannelAnalysis analysis, IReadOnlyList<ChannelGroup> groups, Dictionary<int, IReadOnlyList<int>> orders)
    {
        _analysis = analysis;
        _groups = groups;
        _orders = orders;
    }

    /// <summary>The groups, in the order of a structure's dimensions.</summary>
    public IReadOnlyList<ChannelGroup> Groups => _groups;

    /// <summary>The keep order of group <paramref name="groupId"/>.</summary>
    public IReadOnlyList<int> Order(int groupId) => _orders[groupId];

    /// <summary>
    /// Cluster representatives first: each cluster's member nearest its mean and every noise channel (the channels
    /// that stand for the clustering, research notes §6), then the remaining channels; within both parts the larger
    /// filter L1 norm first. A width equal to the clustering's preliminary width keeps exactly the representatives.
    /// </summary>
    public static ChannelRanking Representatives(ChannelAnalysis analysis, IReadOnlyList<GroupFeatures> features, IReadOnlyList<ClusteringResult> clusterings)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(clusterings);
        if (features.Count != clusterings.Count) throw new ArgumentException("One clustering per group is needed.", nameof(clusterings));
        var orders = new Dictionary<int, IReadOnlyList<int>>();
        for (var i = 0; i < features.Count; i++)
        {
            var f = features[i];
            var norms = FilterNorms.L1(analysis, f.Group);
            var chosen = Clustering.Representatives.Select(f.Rows, f.Group.Width, f.FeatureCount, clusterings[i]).ToHashSet();
            orders[f.Group.Id] = Enumerable.Range(0, f.Group.Width)
                .OrderByDescending(chosen.Contains).ThenByDescending(c => norms[c]).ThenBy(c => c).ToArray();
        }
        return new ChannelRanking(analysis, features.Select(f => f.Group).ToArray(), orders);
    }

    /// <summary>
    /// Largest producer-filter L1 norm first (Li et al., "Pruning Filters for Efficient ConvNets"), summed over every
    /// producer of the group: in a residual group each channel is one filter of several convolutions, and all of them
    /// are removed together. Ties keep the lower channel.
    /// </summary>
    public static ChannelRanking L1(ChannelAnalysis analysis, IReadOnlyList<ChannelGroup> groups)
    {
        ArgumentNullException.ThrowIfNull(groups);
        var orders = new Dictionary<int, IReadOnlyList<int>>();
        foreach (var group in groups)
        {
            var norms = FilterNorms.L1(analysis, group);
            orders[group.Id] = Enumerable.Range(0, group.Width).OrderByDescending(c => norms[c]).ThenBy(c => c).ToArray();
        }
        return new ChannelRanking(analysis, groups, orders);
    }

    /// <summary>
    /// A seeded random order per group (the ACP code's default rule, and the random baseline with or without data): the
    /// same for the same seed and group, whatever groups come before it.
    /// </summary>
    public static ChannelRanking Random(ChannelAnalysis analysis, IReadOnlyList<ChannelGroup> groups, int seed)
    {
        ArgumentNullException.ThrowIfNull(groups);
        var orders = new Dictionary<int, IReadOnlyList<int>>();
        foreach (var group in groups)
        {
            // One generator per group, so a group's draw does not depend on the groups before it.
            var random = new SearchRandom(unchecked((ulong)seed * 0x9E3779B97F4A7C15UL + (ulong)group.Id));
            var order = Enumerable.Range(0, group.Width).ToArray();
            for (var i = order.Length - 1; i > 0; i--)
            {
                var j = random.NextInt(i + 1);
                (order[i], order[j]) = (order[j], order[i]);
            }
            orders[group.Id] = order;
        }
        return new ChannelRanking(analysis, groups, orders);
    }

    /// <summary>Given orders (every channel of each group, the one to keep first at the front).</summary>
    internal static ChannelRanking FromOrders(ChannelAnalysis analysis, IReadOnlyList<ChannelGroup> groups, Dictionary<int, IReadOnlyList<int>> orders) =>
        new(analysis, groups, orders);

    /// <summary>
    /// Keep-sets for a structure: group <c>Groups[d]</c> keeps the first <c>widths[d]</c> channels of its order. A value
    /// that would lose every channel (a Split or Slice output holding part of a group) keeps its best-ranked one.
    /// </summary>
    public IReadOnlyDictionary<int, int[]> KeepSets(IReadOnlyList<int> widths)
    {
        ArgumentNullException.ThrowIfNull(widths);
        if (widths.Count != _groups.Count) throw new ArgumentException($"The structure has {widths.Count} widths for {_groups.Count} groups.", nameof(widths));
        var keep = new Dictionary<int, int[]>();
        for (var d = 0; d < _groups.Count; d++)
        {
            var group = _groups[d];
            if (widths[d] < 1 || widths[d] > group.Width) throw new ArgumentException($"Group {group.Id} has {group.Width} channels; width {widths[d]} is impossible.", nameof(widths));
            keep[group.Id] = _orders[group.Id].Take(widths[d]).Order().ToArray();
        }
        KeepEveryValueNonEmpty(keep);
        return keep;
    }

    /// <summary>
    /// A Split or Slice output that carries only part of a group can lose all its channels; such a plan is refused,
    /// so the best-ranked channel the value carries is kept back (the width then exceeds the rounded one by one).
    /// </summary>
    private void KeepEveryValueNonEmpty(Dictionary<int, int[]> keep)
    {
        while (PruningPlan.EmptiedValues(_analysis, keep).FirstOrDefault() is { } emptied)
        {
            var best = _analysis.MembershipsOf(emptied)
                .Where(m => keep.ContainsKey(m.Group.Id))
                .SelectMany(m => m.Member.Channels().Select(c => (Group: m.Group.Id, Index: c.GroupIndex)))
                .MinBy(c => IndexOf(_orders[c.Group], c.Index));
            keep[best.Group] = [.. keep[best.Group].Append(best.Index).Order()];
        }
    }

    private static int IndexOf(IReadOnlyList<int> order, int index)
    {
        for (var i = 0; i < order.Count; i++)
        {
            if (order[i] == index) return i;
        }
        return int.MaxValue;
    }
}
