using Acp.Onnx.Analysis;
using Acp.Onnx.Channels;
using Acp.Onnx.Ir;
using Acp.Onnx.Tests.Channels;
using Acp.Onnx.Tests.Support;

namespace Acp.Pruning.Tests;

/// <summary>The cost predicted from group widths equals what <see cref="ModelCost"/> counts on the pruned model.</summary>
public sealed class CostPredictionTests
{
    public static TheoryData<string> Files => new(
        Fixtures.TorchvisionFiles.Concat(Fixtures.EdgeFiles).Append("tiny_cnn.onnx").Append("tiny_mlp.onnx"));

    public static TheoryData<string> HandBuilt => new(ChannelModels.All.Keys);

    [Theory]
    [MemberData(nameof(Files))]
    public void Prediction_equals_the_cost_of_the_pruned_fixture(string file)
    {
        var roundTo = file.StartsWith("edge_", StringComparison.Ordinal) || file.StartsWith("tiny_", StringComparison.Ordinal) ? 1 : 8;
        AssertPredicted(OnnxModel.Load(Fixtures.PathOf(file)), roundTo, file);
    }

    [Theory]
    [MemberData(nameof(HandBuilt))]
    public void Prediction_equals_the_cost_of_the_pruned_hand_built_model(string name) => AssertPredicted(ChannelModels.All[name](), 1, name);

    [Fact]
    public void Widths_alone_estimate_a_group_a_split_cuts_in_proportion()
    {
        var analysis = ChannelAnalysis.Run(OnnxModel.Load(Fixtures.PathOf("edge_split_after_concat.onnx")));
        var predictor = new CostPredictor(analysis);
        var second = analysis.PrunableGroups[1];
        Assert.Null(second.MemberOf("Split_1_out0")!.Multiplicity);

        // Keeping 3 of conv 2's 6 channels: which 3 decides how many reach each Split output (1+2 or 0+3).
        var exact = predictor.Predict(new Dictionary<int, int[]> { [second.Id] = [0, 1, 2] });
        var estimate = predictor.PredictFromWidths(new Dictionary<int, int> { [second.Id] = 3 });

        Assert.Equal(exact, predictor.Predict(new Dictionary<int, int[]> { [second.Id] = [3, 4, 5] }));
        Assert.InRange((double)estimate.Macs / exact.Macs, 0.9, 1.1);
        Assert.InRange((double)estimate.Params / exact.Params, 0.9, 1.1);
    }

    [Fact]
    public void Impossible_widths_are_refused()
    {
        var analysis = ChannelAnalysis.Run(OnnxModel.Load(Fixtures.PathOf("edge_residual_add.onnx")));
        var predictor = new CostPredictor(analysis);
        var id = analysis.PrunableGroups.Single().Id;
        var fenced = analysis.FencedGroups.First(g => g.Width > 1).Id;

        Assert.Throws<ArgumentException>(() => predictor.PredictFromWidths(new Dictionary<int, int> { [id] = 0 }));
        Assert.Throws<ArgumentException>(() => predictor.PredictFromWidths(new Dictionary<int, int> { [id] = 5 }));
        Assert.Throws<ArgumentException>(() => predictor.PredictFromWidths(new Dictionary<int, int> { [fenced] = 1 }));
        Assert.Throws<ArgumentException>(() => predictor.PredictFromWidths(new Dictionary<int, int> { [42] = 1 }));
    }

    private static void AssertPredicted(OnnxModel model, int roundTo, string what)
    {
        var analysis = ChannelAnalysis.Run(model);
        var predictor = new CostPredictor(analysis);
        var before = ModelCost.Compute(model, analysis.Shapes);
        Assert.Equal(new PredictedCost(before.TotalParams, before.TotalMacs), predictor.Original);
        Assert.Equal(predictor.Original, predictor.Predict(PruningPlan.KeepAll(analysis)));

        foreach (var seed in new[] { 1, 2 })
        {
            var keep = UniformSelection.Random(seed).Select(analysis, 0.5, roundTo);
            var pruned = ChannelSurgery.Apply(analysis, keep).Model;
            var after = ModelCost.Compute(pruned, ShapeInference.Run(pruned));

            var predicted = predictor.Predict(keep);
            Assert.Equal((after.TotalParams, after.TotalMacs), (predicted.Params, predicted.Macs));
            if (analysis.Groups.All(g => g.Members.All(m => m.Multiplicity is not null)))
            {
                // Every member carries each group channel equally often, so the widths say everything.
                Assert.Equal(predicted, predictor.PredictFromWidths(keep.ToDictionary(kv => kv.Key, kv => kv.Value.Length)));
            }
            Assert.True(keep.Count == 0 || predicted.Params <= predictor.Original.Params, what);
        }
    }
}
