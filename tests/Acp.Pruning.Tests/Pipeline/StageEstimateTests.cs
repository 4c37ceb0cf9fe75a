using Acp.Pruning.Pipeline;
using Acp.Pruning.Search;

namespace Acp.Pruning.Tests.Pipeline;

/// <summary>
/// Before any stage's work a run reports an estimate of every stage it will go through, from a timed sample; the stages
/// that run networks report their throughput (images/s); and the sample changes nothing of the result.
/// </summary>
public sealed class StageEstimateTests
{
    [Theory]
    [InlineData(PruningStrategy.Acp, new[] { PruningStage.Calibrating, PruningStage.Clustering, PruningStage.Searching, PruningStage.Finalists, PruningStage.FineTuning, PruningStage.Exporting })]
    [InlineData(PruningStrategy.AcpPaper, new[] { PruningStage.Calibrating, PruningStage.Clustering, PruningStage.Searching, PruningStage.FineTuning, PruningStage.Exporting })]
    [InlineData(PruningStrategy.L1, new[] { PruningStage.Calibrating, PruningStage.FineTuning, PruningStage.Exporting })]
    [InlineData(PruningStrategy.Sfp, new[] { PruningStage.Calibrating, PruningStage.FineTuning, PruningStage.Exporting })]
    public void Every_stage_that_runs_is_estimated_before_any_of_them_starts(PruningStrategy strategy, PruningStage[] expected)
    {
        var reports = new List<PruningProgress>();
        var options = PipelineTests.Small(strategy) with
        {
            ValidationImages = 300, FitnessImages = 200, Swarm = new PsoOptions { Particles = 2, Cycles = 1 },
            Finalists = strategy == PruningStrategy.Acp ? 2 : 0, FinalistSteps = 3,
        };
        PruningPipeline.Run(TrainedSmallCnn.Model(), TrainedSmallCnn.Data(), options, new Collect(reports));

        var estimating = reports.TakeWhile(r => r.Stage == PruningStage.Estimating).ToList();
        Assert.NotEmpty(estimating);
        var estimates = Assert.Single(estimating, r => r.Estimates is not null).Estimates!;
        Assert.Same(estimating[^1].Estimates, estimates);
        // Nothing after the estimates goes back to estimating, and exactly the stages that then report were estimated.
        var later = reports.Skip(estimating.Count).ToList();
        Assert.DoesNotContain(later, r => r.Stage == PruningStage.Estimating || r.Estimates is not null);
        Assert.Equal(expected, later.Select(r => r.Stage).Distinct());
        Assert.Equal(expected, estimates.Select(e => e.Stage));
        // Every stage here runs a network over images, so a sampled rate gives it a positive time.
        Assert.All(estimates.Where(e => e.Stage != PruningStage.Clustering), e => Assert.True(e.Time > TimeSpan.Zero, $"{e.Stage}: {e.Time}"));
        Assert.All(estimates, e => Assert.False(string.IsNullOrWhiteSpace(e.Basis)));

        // Throughput: every stage that runs networks over images, once it has timed some (calibration's feature maps
        // run only in the clustering strategies; the original's accuracy before them is not reported per batch).
        var timed = expected.Where(s => s is not (PruningStage.Clustering or PruningStage.Calibrating)
            || (s == PruningStage.Calibrating && expected.Contains(PruningStage.Clustering)));
        foreach (var stage in timed)
        {
            var rates = later.Where(r => r.Stage == stage && r.ImagesPerSecond is not null).Select(r => r.ImagesPerSecond!.Value).ToList();
            Assert.True(rates.Count > 0, $"{stage} reported no throughput");
            Assert.All(rates, rate => Assert.True(double.IsFinite(rate) && rate > 0, $"{stage}: {rate} images/s"));
        }
    }

    [Fact]
    public void The_sample_changes_nothing_of_the_result()
    {
        var options = PipelineTests.Small(PruningStrategy.Acp) with { Finalists = 2, FinalistSteps = 3 };
        var quiet = PruningPipeline.Run(TrainedSmallCnn.Model(), TrainedSmallCnn.Data(), options);
        var reports = new List<PruningProgress>();
        var listened = PruningPipeline.Run(TrainedSmallCnn.Model(), TrainedSmallCnn.Data(), options, new Collect(reports));
        Assert.Contains(reports, r => r.Estimates is not null);
        Assert.Equal(quiet.Model.ToBytes(), listened.Model.ToBytes());
    }

    private sealed class Collect(List<PruningProgress> reports) : IProgress<PruningProgress>
    {
        public void Report(PruningProgress value) => reports.Add(value);
    }
}
