using Acp.Onnx.Channels;

namespace Acp.Pruning;

/// <summary>
/// Keeps the channels whose producer filters have the largest L1 norm (Li et al., "Pruning Filters for Efficient
/// ConvNets"), summed over every producer of the group: in a residual group each channel is one filter of several
/// convolutions, and all of them are removed together. Ties keep the lower channel.
/// </summary>
public sealed class L1NormStrategy : ChannelSelectionStrategy
{
    /// <inheritdoc/>
    public override string Name => "l1-norm";

    /// <inheritdoc/>
    protected override IReadOnlyList<int> Rank(ChannelAnalysis analysis, ChannelGroup group)
    {
        var norms = FilterNorms.L1(analysis, group);
        return Enumerable.Range(0, group.Width).OrderByDescending(i => norms[i]).ThenBy(i => i).ToArray();
    }
}
