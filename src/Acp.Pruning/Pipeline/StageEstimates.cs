using System.Globalization;

namespace Acp.Pruning.Pipeline;

/// <summary>
/// The <see cref="PruningStage.Estimating"/> stage: before the run's work starts, a sample is timed
/// (<see cref="WorkRates"/>) and every later stage's time is estimated from it and reported, so that a user of a
/// 224-px model learns before the search whether the schedule fits their afternoon.
/// </summary>
/// <remarks>
/// Each strategy's search and fine-tuning estimate their own stages (<see cref="IStructureSearch.Estimate"/>,
/// <see cref="IFineTuning.Estimate"/>): they know what they run. The pipeline adds what it runs itself (the original's
/// validation accuracy, the final measurement). Estimates are upper bounds where the run may skip work (candidates
/// found in a resumed run's log, structures below the capacity floor, repeated structures).
/// </remarks>
internal static class StageEstimates
{
    /// <summary>Measures the sample and reports the estimates; a no-op without a progress listener.</summary>
    public static void Report(PruningRun run, IStructureSearch search, IFineTuning fineTuning)
    {
        if (run.Progress is not { } progress) return;
        progress.Report(new PruningProgress(PruningStage.Estimating, 0, 1, "timing a sample"));
        var rates = WorkRates.Measure(run);
        var estimates = For(run, search, fineTuning, rates);
        progress.Report(new PruningProgress(PruningStage.Estimating, 1, 1,
            $"from a sample of {rates.SampleImages} images: " + string.Join(", ", estimates.Select(e => $"{Name(e.Stage)} {Duration(e.Time)}")) +
            $"; total {Duration(TimeSpan.FromTicks(estimates.Sum(e => e.Time.Ticks)))}")
        {
            Estimates = estimates,
        });
    }

    /// <summary>One estimate per stage the run goes through, in stage order: the parts of the same stage summed.</summary>
    public static IReadOnlyList<StageEstimate> For(PruningRun run, IStructureSearch search, IFineTuning fineTuning, WorkRates rates)
    {
        var data = run.Data;
        var parts = new List<StageEstimate>
        {
            new(PruningStage.Calibrating, Seconds(data.Validation.ImagesPerEpoch * rates.OriginalInference),
                $"the original's accuracy on {data.Validation.ImagesPerEpoch} validation images"),
        };
        parts.AddRange(search.Estimate(run, rates));
        parts.AddRange(fineTuning.Estimate(run, rates));
        parts.Add(new(PruningStage.Exporting, Seconds(rates.Build + data.Validation.ImagesPerEpoch * rates.PrunedInference),
            $"the pruned model on {data.Validation.ImagesPerEpoch} validation images"));
        return parts.GroupBy(p => p.Stage).OrderBy(g => g.Key)
            .Select(g => new StageEstimate(g.Key, TimeSpan.FromTicks(g.Sum(p => p.Time.Ticks)), string.Join("; ", g.Select(p => p.Basis))))
            .ToArray();
    }

    /// <summary>A time span of <paramref name="seconds"/>, whole milliseconds.</summary>
    public static TimeSpan Seconds(double seconds) => TimeSpan.FromMilliseconds(Math.Round(Math.Max(0, seconds) * 1000));

    /// <summary>m:ss, or h:mm:ss from an hour.</summary>
    public static string Duration(TimeSpan time) => time.TotalHours >= 1
        ? time.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture)
        : $"{(int)time.TotalMinutes}:{time.Seconds:00}";

    private static string Name(PruningStage stage) => stage switch
    {
        PruningStage.Calibrating => "calibration",
        PruningStage.Clustering => "clustering",
        PruningStage.Searching => "search",
        PruningStage.Finalists => "finalists",
        PruningStage.FineTuning => "fine-tuning",
        PruningStage.Exporting => "export",
        _ => stage.ToString().ToLowerInvariant(),
    };
}
