using System.Globalization;

namespace Acp.Onnx.Channels;

/// <summary>
/// A run of a value's channels that belongs to one group: value channels <c>Start + k * Block + s</c>
/// (<c>0 ≤ s &lt; Block</c>) are group channel <c>GroupStart + k</c>, for <c>0 ≤ k &lt; Count</c>.
/// <c>Block</c> is 1 except after a Flatten or Reshape, where each channel owns a block of consecutive positions.
/// </summary>
/// <param name="Start">The first channel of the value in this run.</param>
/// <param name="GroupStart">The group channel of the first block.</param>
/// <param name="Count">How many group channels the run covers.</param>
/// <param name="Block">How many consecutive value channels each group channel occupies.</param>
public readonly record struct ChannelSegment(int Start, int GroupStart, int Count, int Block)
{
    /// <summary>One past the last value channel of the run.</summary>
    public int End => Start + Count * Block;

    /// <summary>
    /// <c>[0,64)</c> when value and group channels coincide, <c>[64,128)←[0,64)</c> at an offset (Concat),
    /// <c>[0,144)←[0,4)×36</c> for blocks (Flatten).
    /// </summary>
    public override string ToString()
    {
        var range = $"[{Start.ToString(CultureInfo.InvariantCulture)},{End.ToString(CultureInfo.InvariantCulture)})";
        if (Block == 1 && Start == GroupStart) return range;
        var source = $"←[{GroupStart.ToString(CultureInfo.InvariantCulture)},{(GroupStart + Count).ToString(CultureInfo.InvariantCulture)})";
        return Block == 1 ? range + source : $"{range}{source}×{Block.ToString(CultureInfo.InvariantCulture)}";
    }
}
