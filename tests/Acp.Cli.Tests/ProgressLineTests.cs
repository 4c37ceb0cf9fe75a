using Acp.Pruning.Pipeline;

namespace Acp.Cli.Tests;

/// <summary>Redirected output (CI logs) gets a progress line at least every 30 s of work, and not one per batch.</summary>
public sealed class ProgressLineTests
{
    [Fact]
    public void A_long_stage_without_milestones_still_prints_a_line_every_30_seconds()
    {
        var output = new StringWriter();
        var now = TimeSpan.Zero;
        var progress = new PruningProgressView.LineProgress(output, () => now);
        // Ten minutes of fine-tuning batches of one epoch, one report a second.
        for (var second = 0; second <= 600; second++)
        {
            now = TimeSpan.FromSeconds(second);
            progress.Report(new PruningProgress(PruningStage.FineTuning, second, 600, $"batch {second}", Epoch: 0));
        }
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.InRange(lines.Length, 600 / 30, 600 / 30 + 2);
        Assert.StartsWith("Fine-tuning: batch 0 (0 %, 0:00 elapsed)", lines[0]);
        Assert.Contains("(50 %, 5:00 elapsed)", string.Join('\n', lines));
    }

    [Fact]
    public void Stage_changes_print_at_once()
    {
        var output = new StringWriter();
        var progress = new PruningProgressView.LineProgress(output, () => TimeSpan.FromSeconds(1));
        progress.Report(new PruningProgress(PruningStage.Calibrating, 0, 200, "calibrating"));
        progress.Report(new PruningProgress(PruningStage.Calibrating, 100, 200, "calibrating"));
        progress.Report(new PruningProgress(PruningStage.Searching, 1, 90, "candidate 1", Cycle: 0));
        // The calibration's start, its last state when it ends (not each report in between), the search's start.
        Assert.Equal(
            ["Calibrating: calibrating (0 %, 0:01 elapsed)", "Calibrating: calibrating (50 %, 0:01 elapsed)", "Searching: candidate 1 (1 %, 0:01 elapsed)"],
            output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')));
    }

    [Fact]
    public void Estimates_print_a_line_per_stage_and_each_stage_ends_with_its_time_against_the_estimate()
    {
        var output = new StringWriter();
        var now = TimeSpan.Zero;
        var progress = new PruningProgressView.LineProgress(output, () => now);
        progress.Report(new PruningProgress(PruningStage.Estimating, 0, 1, "timing a sample"));
        now = TimeSpan.FromSeconds(4);
        progress.Report(new PruningProgress(PruningStage.Estimating, 1, 1, "done")
        {
            Estimates = [new(PruningStage.Calibrating, TimeSpan.FromSeconds(30), "200 images"), new(PruningStage.FineTuning, TimeSpan.FromMinutes(61), "3 epochs")],
        });
        progress.Report(new PruningProgress(PruningStage.Calibrating, 100, 200, "feature maps") { ImagesPerSecond = 7.254 });
        now = TimeSpan.FromSeconds(40);
        progress.Report(new PruningProgress(PruningStage.FineTuning, 1, 10, "epoch 1/3", Epoch: 0) { ImagesPerSecond = 123.44 });
        progress.Finish();

        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToList();
        Assert.Contains("  estimated Calibrating      0:30  (200 images)", lines);
        Assert.Contains("  estimated Fine-tuning   1:01:00  (3 epochs)", lines);
        Assert.Contains("  estimated total         1:01:30", lines);
        Assert.Contains("Calibrating: feature maps (50 %, 7.25 images/s, 0:04 elapsed)", lines);
        Assert.Contains("Calibrating took 0:36 (estimated 0:30)", lines);
        Assert.Contains("Fine-tuning: epoch 1/3 (10 %, 123.4 images/s, 0:40 elapsed)", lines);
        Assert.Contains("Fine-tuning took 0:00 (estimated 1:01:00)", lines);
        // The estimates come before the first line of the stages they estimate.
        Assert.True(lines.FindIndex(l => l.StartsWith("  estimated total", StringComparison.Ordinal)) < lines.FindIndex(l => l.StartsWith("Calibrating:", StringComparison.Ordinal)));
    }
}
