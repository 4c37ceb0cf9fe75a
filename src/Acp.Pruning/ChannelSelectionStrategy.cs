using Acp.Onnx.Channels;

namespace Acp.Pruning;

/// <summary>
/// Chooses which channels every prunable group keeps when a fraction of each group is removed: the kept width is
/// the group's width times (1 − ratio), rounded to a multiple (see <see cref="ChannelRounding.RoundWidth"/>), and
/// the strategy decides which channels make up that width.
/// </summary>
public abstract class ChannelSelectionStrategy
{
    /// <summary>The strategy's name for reports, e.g. "l1-norm".</summary>
    public abstract string Name { get; }

    /// <summary>
    /// Keep-sets (group id → sorted group channels) for every prunable group of <paramref name="analysis"/>, each
    /// losing about <paramref name="ratio"/> of its channels; fenced groups are left out (they keep everything).
    /// </summary>
    /// <param name="analysis">The groups to prune.</param>
    /// <param name="ratio">The fraction of each group to remove, in [0, 1).</param>
    /// <param name="roundTo">Kept widths are rounded to a multiple of this (1 for no rounding).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="ratio"/> or <paramref name="roundTo"/> is out of range.</exception>
    public IReadOnlyDictionary<int, int[]> Select(ChannelAnalysis analysis, double ratio, int roundTo = ChannelRounding.DefaultMultiple)
    {
        ArgumentNullException.ThrowIfNull(analysis);
        if (!(ratio >= 0 && ratio < 1)) throw new ArgumentOutOfRangeException(nameof(ratio), ratio, "The ratio of channels to remove must be at least 0 and below 1.");
        ArgumentOutOfRangeException.ThrowIfLessThan(roundTo, 1);
        var keep = new Dictionary<int, int[]>();
        var rankings = new Dictionary<int, IReadOnlyList<int>>();
        foreach (var group in analysis.PrunableGroups)
        {
            var width = ChannelRounding.RoundWidth(group.Width, group.Width * (1 - ratio), roundTo);
            rankings[group.Id] = Rank(analysis, group);
            keep[group.Id] = rankings[group.Id].Take(width).Order().ToArray();
        }
        KeepEveryValueNonEmpty(analysis, keep, rankings);
        return keep;
    }

    /// <summary>
    /// A Split or Slice output that carries only part of a group can lose all its channels; such a plan is refused,
    /// so the best-ranked channel the value carries is kept back (the width then exceeds the rounded one by one).
    /// </summary>
    internal static void KeepEveryValueNonEmpty(ChannelAnalysis analysis, Dictionary<int, int[]> keep, Dictionary<int, IReadOnlyList<int>> rankings)
    {
        while (PruningPlan.EmptiedValues(analysis, keep).FirstOrDefault() is { } emptied)
        {
            var best = analysis.MembershipsOf(emptied)
                .Where(m => keep.ContainsKey(m.Group.Id))
                .SelectMany(m => m.Member.Channels().Select(c => (Group: m.Group.Id, Index: c.GroupIndex)))
                .MinBy(c => IndexOf(rankings[c.Group], c.Index));
            keep[best.Group] = [.. keep[best.Group].Append(best.Index).Order()];
        }
    }

    private static int IndexOf(IReadOnlyList<int> ranking, int index)
    {
        for (var i = 0; i < ranking.Count; i++)
        {
            if (ranking[i] == index) return i;
        }
        return int.MaxValue;
    }

    /// <summary>Every channel of <paramref name="group"/> (0..Width-1), the one to keep first at the front.</summary>
    protected abstract IReadOnlyList<int> Rank(ChannelAnalysis analysis, ChannelGroup group);
}
