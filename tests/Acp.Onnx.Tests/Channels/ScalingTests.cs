using System.Diagnostics;
using Acp.Onnx.Analysis;
using Acp.Onnx.Channels;
using Acp.Onnx.Ir;

namespace Acp.Onnx.Tests.Channels;

/// <summary>
/// The structure-only prune path (load, channel analysis, surgery, shape inference and cost of the result) must grow
/// linearly with the node count: a 100,000-node Identity chain once hung the prune (issue 18, item 3; the surgery's
/// constant lookup walked the chain again for every node).
/// </summary>
public sealed class ScalingTests
{
    [Fact]
    public void Pruning_a_long_identity_chain_scales_linearly()
    {
        const int Small = 4_000, Large = 16_000; // 4x the nodes: linear work takes ~4x, quadratic ~16x
        var small = ChainBytes(Small);
        var large = ChainBytes(Large);
        PruneOnce(small); // JIT and first-use costs out of the measurement

        // Interleaved rounds, best of each: load on a shared machine only ever adds time, so minima compare fairly.
        double bestSmall = double.MaxValue, bestLarge = double.MaxValue;
        for (var round = 0; round < 3; round++)
        {
            bestSmall = Math.Min(bestSmall, Time(() => PruneOnce(small)));
            bestLarge = Math.Min(bestLarge, Time(() => PruneOnce(large)));
        }

        var ratio = bestLarge / bestSmall;
        Assert.True(ratio < 8, $"{Large} nodes took {bestLarge:0.000} s, {Small} took {bestSmall:0.000} s: {ratio:0.0}x for 4x the nodes (linear ~4x, quadratic ~16x)");
    }

    /// <summary>Conv → n Identity → Relu → Conv: the first Conv's channels are prunable and travel the whole chain.</summary>
    private static byte[] ChainBytes(int identities)
    {
        var b = new ChannelModelBuilder($"chain{identities}", seed: 1, batch: 1);
        var x = b.Conv(b.Input, 3, 16);
        for (var i = 0; i < identities; i++) x = b.Op("Identity", [x]);
        return b.Build(b.Conv(b.Op("Relu", [x]), 16, 8)).ToBytes();
    }

    private static void PruneOnce(byte[] bytes)
    {
        var model = OnnxModel.FromBytes(bytes);
        var analysis = ChannelAnalysis.Run(model);
        var group = Assert.Single(analysis.PrunableGroups);
        var result = ChannelSurgery.Apply(analysis, new Dictionary<int, int[]> { [group.Id] = Enumerable.Range(0, group.Width / 2).ToArray() });
        var cost = ModelCost.Compute(result.Model, ShapeInference.Run(result.Model));
        Assert.True(cost.TotalMacs > 0);
    }

    private static double Time(Action action)
    {
        var clock = Stopwatch.StartNew();
        action();
        return clock.Elapsed.TotalSeconds;
    }
}
