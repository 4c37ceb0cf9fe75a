using Acp.Data;
using Acp.Onnx.Analysis;
using Acp.Onnx.Ir;
using Acp.Onnx.Tests.Support;
using Acp.Pruning.Pipeline;
using Acp.Pruning.Search;
using Xunit.Abstractions;

namespace Acp.Pruning.Tests.Pipeline;

public sealed class PipelineTests(ITestOutputHelper output)
{
    internal static PruningOptions Small(PruningStrategy strategy, double targetMacs = 0.5) => new()
    {
        Strategy = strategy,
        TargetFlops = targetMacs,
        Normalization = ChannelNormalization.FashionMnist,
        ValidationImages = 1000,
        FitnessImages = 500,
        CalibrationImages = 100,
        RecalibrationImages = 256,
        Swarm = new PsoOptions { Particles = 4, Cycles = 2, MaxVelocityFraction = 0.25 },
        PaperFitnessEpochs = 1,
        Epochs = 1,
        BatchSize = 64,
        Seed = 3,
        RoundTo = 2,
    };

    [Theory]
    [InlineData(PruningStrategy.Acp)]
    [InlineData(PruningStrategy.AcpPaper)]
    [InlineData(PruningStrategy.L1)]
    [InlineData(PruningStrategy.Sfp)]
    public void The_pruned_model_meets_the_budget_runs_in_onnx_runtime_and_keeps_its_accuracy(PruningStrategy strategy)
    {
        var original = TrainedSmallCnn.Model();
        var result = PruningPipeline.Run(original, TrainedSmallCnn.Data(), Small(strategy));

        var before = ModelCost.Compute(original, ShapeInference.Run(original));
        var after = ModelCost.Compute(result.Model, ShapeInference.Run(result.Model));
        output.WriteLine($"losses {string.Join(",", result.EpochLosses)} widths {string.Join(",", result.Widths.Select(w => w.PrunedWidth))} cands {result.Candidates.Count}");
        output.WriteLine($"{strategy}: MACs {after.TotalMacs}/{before.TotalMacs}, accuracy {result.Original.ValidationAccuracy:P2} → {result.PrunedBeforeFineTuning.ValidationAccuracy:P2} → {result.Pruned.ValidationAccuracy:P2} in {result.TotalTime}");
        Assert.True(after.TotalMacs <= 0.5 * before.TotalMacs, $"{after.TotalMacs} MACs is over half of {before.TotalMacs}");
        Assert.Equal(after.TotalMacs, result.Pruned.Macs);
        Assert.Contains(result.Widths, w => w.PrunedWidth < w.OriginalWidth);
        // acp-paper keeps random channels, as the authors' code does. In this small CNN, half of each layer drawn at random
        // (seed 3) leaves a network that predicts one class even before fine-tuning, where the L1 half keeps 69 % after
        // recalibration: the random rule is faithful, not good, so accuracy is not asserted for it.
        if (strategy != PruningStrategy.AcpPaper) Assert.InRange(result.Pruned.ValidationAccuracy!.Value, result.Original.ValidationAccuracy!.Value - 0.08, 1);
        else Assert.NotEmpty(result.Candidates);

        // ONNX Runtime runs the exported model and agrees with the engine on it.
        using var session = OrtRun.Session(result.Model.ToBytes());
        var images = new float[8 * 28 * 28];
        for (var i = 0; i < images.Length; i++) images[i] = (float)Math.Sin(i * 0.37);
        var ort = session.First(session.InputNames[0], images, 8, 1, 28, 28).Data;
        var engine = Acp.Engine.Execution.Network.Build(result.Model).Forward([8, 1, 28, 28], images).Data;
        for (var i = 0; i < ort.Length; i++) Assert.True(Math.Abs(ort[i] - engine[i]) <= 1e-3f * (1 + Math.Abs(ort[i])), $"logit {i}: ORT {ort[i]}, engine {engine[i]}");
    }

    [Fact]
    public void Every_candidate_the_search_scores_is_within_budget_and_the_history_has_one_entry_per_cycle()
    {
        var options = Small(PruningStrategy.Acp, targetMacs: 0.4) with { Epochs = 0 };
        var original = TrainedSmallCnn.Model();
        var result = PruningPipeline.Run(original, TrainedSmallCnn.Data(), options);
        var limit = 0.4 * result.Original.Macs;
        Assert.NotEmpty(result.Candidates);
        Assert.All(result.Candidates, c => Assert.True(c.Macs <= limit, $"candidate {string.Join(",", c.Widths)} costs {c.Macs} > {limit}"));
        Assert.Equal(options.Swarm.Cycles + 1, result.SearchHistory.Count);
        Assert.Equal(result.Candidates.Max(c => c.Accuracy), result.SearchHistory[^1].BestFitness);
        Assert.NotNull(result.Epsilon);
    }

    [Fact]
    public void Random_keeps_the_same_channels_with_and_without_data()
    {
        // One seeding for both paths (issue 20): the structure-only prune once drew from System.Random instead.
        var options = Small(PruningStrategy.Random) with { Epochs = 0, Seed = 9 };
        var withData = PruningPipeline.Run(TrainedSmallCnn.Model(), TrainedSmallCnn.Data(), options);
        var withoutData = PruningPipeline.Run(TrainedSmallCnn.Model(), null, options);

        Assert.Equal(withData.Keep.Keys.Order(), withoutData.Keep.Keys.Order());
        Assert.All(withData.Keep, kv => Assert.Equal(kv.Value, withoutData.Keep[kv.Key]));
        Assert.Contains(withData.Keep, kv => kv.Value.Length < withData.Widths.Single(w => w.GroupId == kv.Key).OriginalWidth);
    }
}
