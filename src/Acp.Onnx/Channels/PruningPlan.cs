namespace Acp.Onnx.Channels;

/// <summary>
/// Which channels of which groups to keep, checked against an analysis. Groups the plan does not name keep every
/// channel. <see cref="KeptChannels"/> answers, for any value, which of its channels remain.
/// </summary>
public sealed class PruningPlan
{
    private readonly Dictionary<int, int[]> _keep;
    private readonly Dictionary<int, bool[]> _masks;
    private readonly Dictionary<string, int[]?> _kept = new(StringComparer.Ordinal);

    private PruningPlan(ChannelAnalysis analysis, Dictionary<int, int[]> keep)
    {
        Analysis = analysis;
        _keep = keep;
        _masks = keep.ToDictionary(kv => kv.Key, kv =>
        {
            var mask = new bool[analysis.Groups[kv.Key].Width];
            foreach (var i in kv.Value) mask[i] = true;
            return mask;
        });
    }

    /// <summary>The analysis the plan refers to.</summary>
    public ChannelAnalysis Analysis { get; }

    /// <summary>The kept group channels of every group the plan names, sorted ascending.</summary>
    public IReadOnlyDictionary<int, int[]> Keep => _keep;

    /// <summary>True when some group loses channels.</summary>
    public bool RemovesChannels => _keep.Any(kv => kv.Value.Length < Analysis.Groups[kv.Key].Width);

    /// <summary>
    /// Checks <paramref name="keep"/> (group id → group channels to keep) against <paramref name="analysis"/>.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// A group id is unknown; a keep-set is empty, unsorted, repeats an index or leaves 0..Width-1; or a fenced group
    /// would lose channels; or the keep-sets leave some value without any channel (see <see cref="EmptiedValues"/>).
    /// (A fenced group named with all its channels is accepted and left out of the plan.)
    /// </exception>
    public static PruningPlan Create(ChannelAnalysis analysis, IReadOnlyDictionary<int, int[]> keep)
    {
        var plan = Build(analysis, keep);
        if (plan.Emptied().FirstOrDefault() is { } emptied)
        {
            var needed = string.Join("; ", analysis.MembershipsOf(emptied)
                .Where(m => plan._keep.ContainsKey(m.Group.Id))
                .Select(m => $"group {m.Group.Id} channels {string.Join(",", m.Member.Channels().Select(c => c.GroupIndex).Distinct().Order())}"));
            throw new ArgumentException(
                $"The keep-sets remove every channel of '{emptied}', which would leave a tensor with no channels; keep at least one of: {needed}.", nameof(keep));
        }
        return plan;
    }

    /// <summary>
    /// The values <paramref name="keep"/> would leave without any channel: Split or Slice outputs that carry only
    /// removed channels. <see cref="Create"/> refuses such keep-sets, since a zero-channel tensor is not a smaller
    /// layer but a broken one (runtimes disagree on it); strategies use this to repair their choice.
    /// </summary>
    /// <exception cref="ArgumentException">The keep-sets are otherwise invalid.</exception>
    public static IReadOnlyList<string> EmptiedValues(ChannelAnalysis analysis, IReadOnlyDictionary<int, int[]> keep) =>
        Build(analysis, keep).Emptied().ToList();

    private static PruningPlan Build(ChannelAnalysis analysis, IReadOnlyDictionary<int, int[]> keep)
    {
        ArgumentNullException.ThrowIfNull(analysis);
        ArgumentNullException.ThrowIfNull(keep);
        var copy = new Dictionary<int, int[]>();
        foreach (var (id, indices) in keep.OrderBy(kv => kv.Key))
        {
            if (id < 0 || id >= analysis.Groups.Count)
            {
                throw new ArgumentException($"There is no group {id}; the analysis has groups 0..{analysis.Groups.Count - 1}.", nameof(keep));
            }
            var group = analysis.Groups[id];
            if (indices is null || indices.Length == 0)
            {
                throw new ArgumentException($"Group {id} must keep at least one channel.", nameof(keep));
            }
            for (var i = 0; i < indices.Length; i++)
            {
                if (indices[i] < 0 || indices[i] >= group.Width)
                {
                    throw new ArgumentException($"Group {id} has {group.Width} channels (0..{group.Width - 1}); keep index {indices[i]} at position {i} is out of range.", nameof(keep));
                }
                if (i > 0 && indices[i] <= indices[i - 1])
                {
                    throw new ArgumentException($"The keep-set of group {id} must be sorted ascending without repeats; {indices[i]} at position {i} follows {indices[i - 1]}.", nameof(keep));
                }
            }
            if (!group.IsPrunable)
            {
                if (indices.Length < group.Width)
                {
                    throw new ArgumentException($"Group {id} is fenced ({group.Fences[0]}), so it must keep all {group.Width} channels.", nameof(keep));
                }
                // Keeping all of a fenced group is what happens anyway; leaving it out keeps the model byte for byte.
                continue;
            }
            copy[id] = (int[])indices.Clone();
        }
        return new PruningPlan(analysis, copy);
    }

    private IEnumerable<string> Emptied() => Analysis.TrackedValues.Where(v => KeptChannels(v) is { Length: 0 });

    /// <summary>A plan that names every prunable group and keeps all its channels: surgery then rewrites nothing but must reproduce the model.</summary>
    public static PruningPlan KeepAll(ChannelAnalysis analysis)
    {
        ArgumentNullException.ThrowIfNull(analysis);
        return new PruningPlan(analysis, analysis.PrunableGroups.ToDictionary(g => g.Id, g => Enumerable.Range(0, g.Width).ToArray()));
    }

    /// <summary>How many channels group <paramref name="groupId"/> keeps.</summary>
    public int KeptWidth(int groupId) => _keep.TryGetValue(groupId, out var kept) ? kept.Length : Analysis.Group(groupId).Width;

    /// <summary>
    /// The channels of <paramref name="value"/> (axis 1) that remain, sorted ascending; null when the plan names no
    /// group the value carries (including values the analysis does not follow), so nothing about it changes.
    /// </summary>
    public int[]? KeptChannels(string? value)
    {
        if (value is null || value.Length == 0) return null;
        if (_kept.TryGetValue(value, out var cached)) return cached;
        int[]? result = null;
        var memberships = Analysis.MembershipsOf(value);
        if (memberships.Any(m => _masks.ContainsKey(m.Group.Id)))
        {
            var keep = Enumerable.Repeat(true, memberships[0].Member.ValueChannels).ToArray();
            foreach (var (group, member) in memberships)
            {
                if (!_masks.TryGetValue(group.Id, out var mask)) continue;
                foreach (var (channel, index) in member.Channels()) keep[channel] = mask[index];
            }
            result = Enumerable.Range(0, keep.Length).Where(c => keep[c]).ToArray();
        }
        _kept[value] = result;
        return result;
    }

    /// <summary>How many channels <paramref name="value"/> has after surgery; null when the analysis does not follow it.</summary>
    public int? ChannelCountAfter(string value) => KeptChannels(value)?.Length ?? Analysis.ChannelCount(value);
}
