using System.Diagnostics;
using Acp.Onnx.Analysis;
using Acp.Onnx.Channels;
using Acp.Onnx.Ir;

namespace Acp.Onnx.Tests.Channels;

/// <summary>
/// The structure-only prune path (load, channel analysis, surgery, shape inference and cost of the result) must not
/// grow quadratically with the node count: a 100,000-node Identity chain once hung the prune (issue 18, item 3; the
/// surgery's constant lookup walked the chain again for every node).
/// </summary>
public sealed class ScalingTests
{
    [Fact]
    public void Pruning_a_100000_node_identity_chain_finishes_in_seconds_not_minutes()
    {
        // Linear work takes a few seconds here even with other test assemblies sharing the cores; the quadratic lookup
        // this guards against took 38 s at 40,000 nodes and did not finish in 200 s at 100,000. A wall-clock bound with
        // that margin, rather than a ratio of two timings, which CI's parallel test assemblies made flaky.
        const int Nodes = 100_000;
        var bytes = ChainBytes(Nodes);
        var clock = Stopwatch.StartNew();
        PruneOnce(bytes);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"{Nodes} nodes took {clock.Elapsed.TotalSeconds:0.0} s");
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

}
