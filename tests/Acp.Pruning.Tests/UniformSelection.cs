using Acp.Onnx.Channels;
using Acp.Pruning.Pipeline;

namespace Acp.Pruning.Tests;

/// <summary>
/// The structure-only selection as the pipeline makes it: a ratio becomes widths through the budget code, and a
/// channel ranking turns the widths into keep-sets.
/// </summary>
internal sealed class UniformSelection(Func<ChannelAnalysis, ChannelRanking> rank)
{
    public static UniformSelection L1() => new(a => ChannelRanking.L1(a, a.PrunableGroups));

    public static UniformSelection Random(int seed) => new(a => ChannelRanking.Random(a, a.PrunableGroups, seed));

    public IReadOnlyDictionary<int, int[]> Select(ChannelAnalysis analysis, double ratio, int roundTo = ChannelRounding.DefaultMultiple)
    {
        var widths = Budget.UniformWidths(analysis.PrunableGroups, ratio, roundTo);
        return rank(analysis).KeepSets(widths);
    }
}
