namespace Acp.Onnx.Channels;

/// <summary>
/// A value that carries channels of a group on its axis 1, and which of its channels they are. A value can be a
/// member of several groups (a Concat output holds a range of each input's group), and a group channel can appear
/// more than once in one value (a tensor concatenated with itself).
/// </summary>
public sealed class ChannelMember
{
    private readonly ChannelSegment[] _segments;

    internal ChannelMember(string value, int valueChannels, ChannelSegment[] segments, int groupWidth)
    {
        Value = value;
        ValueChannels = valueChannels;
        _segments = segments;
        ChannelCount = segments.Sum(s => s.Count * s.Block);
        var perIndex = new int[groupWidth];
        foreach (var (_, groupIndex) in Channels()) perIndex[groupIndex]++;
        Multiplicity = perIndex.Distinct().Count() == 1 ? perIndex[0] : null;
    }

    /// <summary>The value's name.</summary>
    public string Value { get; }

    /// <summary>How many channels the value has on axis 1 in all (this group's and others').</summary>
    public int ValueChannels { get; }

    /// <summary>The runs of the value's channels that belong to the group, in channel order.</summary>
    public IReadOnlyList<ChannelSegment> Segments => _segments;

    /// <summary>How many of the value's channels belong to the group.</summary>
    public int ChannelCount { get; }

    /// <summary>
    /// How many of the value's channels each group channel accounts for, when that is the same for every group
    /// channel (1 for most members, 2 for a tensor concatenated with itself, H×W after a Flatten); null when some
    /// group channels appear more often than others (a Slice or Split that keeps part of the group).
    /// </summary>
    public int? Multiplicity { get; }

    /// <summary>Every (value channel, group channel) pair of the member, in value channel order.</summary>
    public IEnumerable<(int Channel, int GroupIndex)> Channels()
    {
        foreach (var segment in _segments)
        {
            for (var k = 0; k < segment.Count; k++)
            {
                for (var s = 0; s < segment.Block; s++) yield return (segment.Start + k * segment.Block + s, segment.GroupStart + k);
            }
        }
    }

    /// <summary>The group channel that value channel <paramref name="channel"/> carries, or -1 when it belongs to another group.</summary>
    public int GroupIndexOf(int channel)
    {
        foreach (var segment in _segments)
        {
            if (channel >= segment.Start && channel < segment.End) return segment.GroupStart + (channel - segment.Start) / segment.Block;
        }
        return -1;
    }

    /// <summary>How many of the member's channels remain when the group keeps the channels marked in <paramref name="keep"/>.</summary>
    public int CountKept(IReadOnlyList<bool> keep)
    {
        ArgumentNullException.ThrowIfNull(keep);
        var count = 0;
        foreach (var segment in _segments)
        {
            for (var k = 0; k < segment.Count; k++)
            {
                if (keep[segment.GroupStart + k]) count += segment.Block;
            }
        }
        return count;
    }

    /// <summary>The value and its segments, e.g. <c>concat_out [0,4) [4,8)←[0,4)</c>.</summary>
    public override string ToString() => $"{Value} {string.Join(" ", _segments)}";
}
