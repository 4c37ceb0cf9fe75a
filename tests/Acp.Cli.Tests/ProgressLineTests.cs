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
        Assert.Equal(2, output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }
}
