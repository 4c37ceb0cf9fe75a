using Acp.Engine.Backends;
using Acp.Onnx.Analysis;
using Acp.Onnx.Channels;
using Acp.Onnx.Ir;
using Acp.Pruning.Pipeline;
using Xunit.Abstractions;

namespace Acp.Pruning.Tests.Pipeline;

/// <summary>The aip strategy: budget, iterations, recovery, determinism and resume on the small trained CNN.</summary>
public sealed class AipTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("acp-aip-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static PruningOptions Options(string? runDirectory = null, bool resume = false) =>
        PipelineTests.Small(PruningStrategy.Aip, targetMacs: 0.4) with
        {
            Epochs = 1,
            Aip = new AipOptions { StepFraction = 0.2, RecoverySteps = 15 },
            RunDirectory = runDirectory,
            Resume = resume,
        };

    private static readonly Lazy<PruningResult> Uninterrupted = new(() =>
        PruningPipeline.Run(TrainedSmallCnn.Model(), TrainedSmallCnn.Data(), Options()));

    [Fact]
    public void Meets_the_budget_with_the_baselines_uniform_structure_after_several_logged_steps()
    {
        var result = Uninterrupted.Value;
        var original = TrainedSmallCnn.Model();
        var analysis = ChannelAnalysis.Run(original);
        var budget = new Budget(new CostPredictor(analysis), analysis.PrunableGroups, 0.4, null);
        var (_, uniform) = budget.Uniform(Options().RoundTo);
        var before = ModelCost.Compute(original, analysis.Shapes);
        var after = ModelCost.Compute(result.Model, ShapeInference.Run(result.Model));
        output.WriteLine(string.Join("\n", result.Candidates.Select(c => $"{c.Stage} {c.Index}: {string.Join(",", c.Widths)} {c.Macs} MACs {c.Accuracy:P2}")));

        Assert.True(after.TotalMacs <= budget.MaxMacs, $"{after.TotalMacs} MACs is over the budget's {budget.MaxMacs}");
        Assert.Equal(after.TotalMacs, result.Pruned.Macs);
        Assert.Equal(uniform, result.Widths.Select(w => w.PrunedWidth));
        Assert.True(after.TotalMacs < before.TotalMacs);
        // Several steps, each logged after its cut and after its recovery, narrowing monotonically to the final structure.
        var recovered = result.Candidates.Where(c => c.Stage == CandidateStage.AipRecovered).ToArray();
        Assert.True(recovered.Length >= 2, $"{recovered.Length} steps");
        Assert.Equal(recovered.Length, result.Candidates.Count(c => c.Stage == CandidateStage.AipCut));
        Assert.Equal(uniform, recovered[^1].Widths);
        for (var i = 1; i < recovered.Length; i++) Assert.True(recovered[i].Macs < recovered[i - 1].Macs);
        Assert.All(recovered, r => Assert.Equal(1000, r.Images));
    }

    [Fact]
    public void Recovery_and_fine_tuning_improve_on_the_pruned_start()
    {
        var result = Uninterrupted.Value;
        var cuts = result.Candidates.Where(c => c.Stage == CandidateStage.AipCut).ToArray();
        var recovered = result.Candidates.Where(c => c.Stage == CandidateStage.AipRecovered).ToArray();
        output.WriteLine($"original {result.Original.ValidationAccuracy:P2}, plain cut {result.PrunedBeforeFineTuning.ValidationAccuracy:P2}, aip {result.Pruned.ValidationAccuracy:P2}");

        Assert.True(result.Pruned.ValidationAccuracy > result.PrunedBeforeFineTuning.ValidationAccuracy + 0.01,
            $"{result.Pruned.ValidationAccuracy:P2} after aip against {result.PrunedBeforeFineTuning.ValidationAccuracy:P2} for the plain cut");
        // The last cut reaches the final structure from recovered weights; the plain cut reaches it from the original's.
        Assert.True(cuts[^1].Accuracy > result.PrunedBeforeFineTuning.ValidationAccuracy,
            $"final structure: {cuts[^1].Accuracy:P2} cut iteratively, {result.PrunedBeforeFineTuning.ValidationAccuracy:P2} cut at once");
        Assert.True(recovered[0].Accuracy > cuts[0].Accuracy, $"first step: {cuts[0].Accuracy:P2} after the cut, {recovered[0].Accuracy:P2} after recovery");
    }

    [Fact]
    public void The_report_plots_every_step_against_its_MACs_and_marks_the_final_recovered_one()
    {
        var result = Uninterrupted.Value;
        var data = Acp.Reporting.PruningReport.Create(result, Options(), "small.onnx");

        Assert.Equal(result.Candidates.Count, data.Candidates.Count);
        Assert.Equal(result.Candidates.Select(c => c.Macs / (double)result.Original.Macs), data.Candidates.Select(c => c.MacsFraction));
        var best = Assert.Single(data.Candidates, c => c.IsBest);
        Assert.Equal(result.Candidates.Last(c => c.Stage == CandidateStage.AipRecovered).Accuracy, best.Accuracy);
        Assert.Contains(data.Notes, n => n.StartsWith("AIP steps", StringComparison.Ordinal));
        var html = Acp.Reporting.HtmlReport.Render(data);
        Assert.Equal(data.Candidates.Count, System.Text.RegularExpressions.Regex.Matches(html, "class=\"candidate( best)?\"").Count);
    }

    [Fact]
    public void The_same_seed_gives_identical_model_bytes()
    {
        var again = PruningPipeline.Run(TrainedSmallCnn.Model(), TrainedSmallCnn.Data(), Options(Path.Combine(_dir, "run")));
        Assert.Equal(Uninterrupted.Value.Model.ToBytes(), again.Model.ToBytes());
    }

    [Theory]
    [InlineData(PruningStage.Searching, 5)]
    [InlineData(PruningStage.Searching, 20)]
    [InlineData(PruningStage.FineTuning, 10)]
    public void A_run_stopped_at_any_step_resumes_to_the_same_model(PruningStage stage, long after)
    {
        var run = Path.Combine(_dir, "run");
        using var stop = new CancellationTokenSource();
        var reports = new List<PruningProgress>();
        var progress = new Callback(p =>
        {
            reports.Add(p);
            if (p.Stage == stage && p.Completed >= after) stop.Cancel();
        });
        Assert.ThrowsAny<OperationCanceledException>(() =>
            PruningPipeline.Run(TrainedSmallCnn.Model(), TrainedSmallCnn.Data(), Options(run), progress, stop.Token));
        Assert.Contains(reports, r => r.Stage == stage);

        var resumed = PruningPipeline.Run(TrainedSmallCnn.Model(), TrainedSmallCnn.Data(), Options(run, resume: true));
        Assert.Equal(Uninterrupted.Value.Model.ToBytes(), resumed.Model.ToBytes());
        Assert.Equal(Uninterrupted.Value.Candidates.Select(c => (c.Stage, c.Correct)), resumed.Candidates.Select(c => (c.Stage, c.Correct)));
    }

    [Fact]
    public void Another_backend_is_refused_before_any_work_naming_the_strategy()
    {
        var options = Options() with { Backend = new OtherBackend() };
        var error = Assert.Throws<ArgumentException>(() => PruningPipeline.Run(TrainedSmallCnn.Model(), TrainedSmallCnn.Data(), options));
        Assert.Contains("aip", error.Message);
        Assert.Contains("other", error.Message);
        // Without the two losses only the engine's distillation is needed, which every backend has.
        (options with { Aip = new AipOptions { AttentionWeight = 0, AdversarialWeight = 0 } }).Validate();
    }

    [Fact]
    public void The_schedule_narrows_by_the_step_fraction_and_ends_on_the_final_structure()
    {
        var analysis = ChannelAnalysis.Run(TrainedSmallCnn.Model());
        var groups = analysis.PrunableGroups;
        var final = Budget.UniformWidths(groups, 0.45, 1);

        var steps = AipPruning.Schedule(groups, final, 0.45, 0.2, 1);

        Assert.Equal([Budget.UniformWidths(groups, 0.2, 1), Budget.UniformWidths(groups, 0.4, 1), final], steps);
        Assert.Empty(AipPruning.Schedule(groups, groups.Select(g => g.Width).ToArray(), 0, 0.2, 1));
    }

    [Fact]
    public void Bn_scale_importance_is_the_magnitude_of_each_channels_scale_and_l1_the_filter_norm()
    {
        var model = TrainedSmallCnn.Model();
        var gamma = model.Graph.Initializers["bn1.weight"];
        var scaled = gamma.Floats.Select((g, c) => c % 2 == 0 ? -3f * (c + 1) : 0.01f * c).ToArray();
        model.Graph.Initializers.Set(OnnxTensor.FromFloats("bn1.weight", gamma.Dims, scaled));
        var analysis = ChannelAnalysis.Run(model);
        var group = analysis.PrunableGroups.Single(g => g.Producers[0].Node.Name == "conv1");

        Assert.Equal(scaled.Select(g => (double)Math.Abs(g)), AipPruning.Importance(analysis, group, AipImportance.BnScale));
        Assert.Equal(FilterNorms.L1(analysis, group), AipPruning.Importance(analysis, group, AipImportance.L1));
    }

    [Fact]
    public void Attention_is_transferred_on_the_last_map_of_every_spatial_size()
    {
        var model = TrainedSmallCnn.Model();
        Assert.Equal(["r1", "r2", "p2"], AipPruning.StageOutputs(model, ShapeInference.Run(model)));
    }

    private sealed class Callback(Action<PruningProgress> report) : IProgress<PruningProgress>
    {
        public void Report(PruningProgress value) => report(value);
    }

    private sealed record OtherBackend : IComputeBackend
    {
        public string Name => "other";
        public string Device => "cpu";
        public ITrainableNetwork Build(OnnxModel model, int seed) => throw new NotSupportedException();
    }
}
