using Acp.Onnx.Channels;
using Acp.Onnx.Ir;
using Acp.Onnx.Tests.Channels;
using Acp.Onnx.Tests.Support;

namespace Acp.Pruning.Tests;

/// <summary>Structure-only selection: L1 norms of the producer filters, seeded random choice, and rounding.</summary>
public sealed class StrategyTests
{
    private static ChannelAnalysis Resnet18() => ChannelAnalysis.Run(OnnxModel.Load(Fixtures.PathOf("resnet18.folded.onnx")));

    [Fact]
    public void L1_keeps_the_filters_with_the_largest_norms()
    {
        var model = TinyModels.Cnn(seed: 3);
        var weight = model.Graph.Initializers["conv.w"];
        var scaled = (float[])weight.Floats.Clone();
        // Filter 1 ×10, filter 3 ×5: they must be the two kept.
        for (var i = 0; i < 27; i++)
        {
            scaled[27 + i] *= 10;
            scaled[81 + i] *= 5;
        }
        model.Graph.Initializers.Set(OnnxTensor.FromFloats("conv.w", weight.Dims, scaled));
        var analysis = ChannelAnalysis.Run(model);

        var keep = UniformSelection.L1().Select(analysis, 0.5, roundTo: 1);

        Assert.Equal([1, 3], keep[analysis.PrunableGroups.Single().Id]);
    }

    [Fact]
    public void L1_sums_the_norms_of_every_producer_of_a_residual_group()
    {
        var analysis = Resnet18();
        var group = analysis.PrunableGroups.First(g => g.Producers.Count == 3);

        var norms = FilterNorms.L1(analysis, group);

        var expected = new double[group.Width];
        foreach (var producer in group.Producers)
        {
            var w = analysis.Model.Graph.Initializers[producer.Node.Inputs[1]];
            var perFilter = (int)(w.ElementCount / w.Dims[0]);
            for (var c = 0; c < w.Dims[0]; c++)
            {
                for (var i = 0; i < perFilter; i++) expected[c] += Math.Abs(w.Floats[c * perFilter + i]);
            }
        }
        for (var c = 0; c < group.Width; c++) Assert.Equal(expected[c], norms[c], 1e-9 * expected[c]);
    }

    [Fact]
    public void Selections_keep_rounded_sorted_widths_of_prunable_groups_only()
    {
        var analysis = Resnet18();
        foreach (var strategy in new UniformSelection[] { UniformSelection.L1(), UniformSelection.Random(5) })
        {
            var keep = strategy.Select(analysis, 0.3);

            Assert.Equal(analysis.PrunableGroups.Select(g => g.Id), keep.Keys.Order());
            foreach (var (id, kept) in keep)
            {
                var width = analysis.Groups[id].Width;
                Assert.Equal(ChannelRounding.RoundWidth(width, width * 0.7), kept.Length);
                Assert.Equal(0, kept.Length % 8);
                Assert.Equal(kept.Order().Distinct(), kept);
                Assert.All(kept, i => Assert.InRange(i, 0, width - 1));
            }
        }
    }

    [Fact]
    public void Random_selection_depends_only_on_the_seed()
    {
        var analysis = Resnet18();

        var a = UniformSelection.Random(11).Select(analysis, 0.5);
        var b = UniformSelection.Random(11).Select(analysis, 0.5);
        var c = UniformSelection.Random(12).Select(analysis, 0.5);

        Assert.All(a.Keys, id => Assert.Equal(a[id], b[id]));
        Assert.Contains(a.Keys, id => !a[id].SequenceEqual(c[id]));
    }

    [Fact]
    public void Ratio_zero_keeps_everything_and_small_groups_keep_one_multiple()
    {
        var analysis = Resnet18();
        var keep = UniformSelection.L1().Select(analysis, 0);
        Assert.All(keep, kv => Assert.Equal(analysis.Groups[kv.Key].Width, kv.Value.Length));

        var edge = ChannelAnalysis.Run(OnnxModel.Load(Fixtures.PathOf("edge_depthwise.onnx")));
        // Width 8 at ratio 0.9: rounding never goes below one multiple of 8.
        Assert.Equal(8, UniformSelection.Random(1).Select(edge, 0.9).Single().Value.Length);
        Assert.Single(UniformSelection.Random(1).Select(edge, 0.9, roundTo: 1).Single().Value);
    }

    [Fact]
    public void Selections_never_empty_a_split_output()
    {
        var analysis = ChannelAnalysis.Run(ChannelModels.SplitEqual());
        var id = analysis.PrunableGroups.Single().Id;
        for (var seed = 0; seed < 20; seed++)
        {
            var keep = UniformSelection.Random(seed).Select(analysis, 0.8, roundTo: 1);

            Assert.Empty(PruningPlan.EmptiedValues(analysis, keep));
            Assert.Contains(keep[id], i => i < 4);
            Assert.Contains(keep[id], i => i >= 4);
            Assert.InRange(keep[id].Length, 2, 3);
        }
    }

    [Theory]
    [InlineData(1.0, 8)]
    [InlineData(-0.1, 8)]
    [InlineData(double.NaN, 8)]
    [InlineData(0.5, 0)]
    public void Out_of_range_ratios_and_multiples_are_refused(double ratio, int roundTo)
    {
        var analysis = ChannelAnalysis.Run(OnnxModel.Load(Fixtures.PathOf("edge_depthwise.onnx")));
        Assert.Throws<ArgumentOutOfRangeException>(() => UniformSelection.L1().Select(analysis, ratio, roundTo));
    }
}
