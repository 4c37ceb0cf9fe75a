using Acp.Pruning.Pipeline;
using Spectre.Console;

namespace Acp.Cli;

/// <summary>
/// Shows a pruning run's progress: a Spectre.Console bar per stage (with ETA) on a terminal, one line per stage, swarm
/// cycle and epoch when the output is redirected, nothing with --quiet or --json.
/// </summary>
internal static class PruningProgressView
{
    public static T Run<T>(TextWriter output, bool quiet, Func<IProgress<PruningProgress>?, T> work)
    {
        if (quiet) return work(null);
        var console = Terminal.For(output);
        if (!console.Profile.Capabilities.Interactive) return work(new LineProgress(output));
        T result = default!;
        console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(context =>
            {
                var tasks = new Dictionary<PruningStage, ProgressTask>();
                result = work(new Callback(p =>
                {
                    if (!tasks.TryGetValue(p.Stage, out var task))
                    {
                        foreach (var earlier in tasks.Values) earlier.Value = earlier.MaxValue;
                        tasks[p.Stage] = task = context.AddTask(Markup.Escape(Title(p.Stage)), maxValue: Math.Max(1, p.Total));
                    }
                    if (p.Total > 0) task.MaxValue = p.Total;
                    task.Value = Math.Min(p.Completed, task.MaxValue);
                    task.Description = Markup.Escape($"{Title(p.Stage)}: {p.Message}");
                }));
                foreach (var task in tasks.Values) task.Value = task.MaxValue;
            });
        return result;
    }

    private static string Title(PruningStage stage) => stage switch
    {
        PruningStage.Calibrating => "Calibrating",
        PruningStage.Clustering => "Clustering",
        PruningStage.Searching => "Searching",
        PruningStage.Finalists => "Finalists",
        PruningStage.FineTuning => "Fine-tuning",
        _ => "Exporting",
    };

    /// <summary>For logs: a line when a stage starts, each swarm cycle ends and each epoch ends; not one per batch.</summary>
    private sealed class LineProgress(TextWriter output) : IProgress<PruningProgress>
    {
        private PruningStage? _stage;
        private int? _cycle;
        private int? _epoch;

        public void Report(PruningProgress p)
        {
            var milestone = p.Stage != _stage
                || (p.Stage == PruningStage.Searching && p.Cycle != _cycle)
                || (p.Stage == PruningStage.FineTuning && p.Epoch != _epoch)
                || (p.Stage == PruningStage.Clustering && p.Completed == p.Total);
            (_stage, _cycle, _epoch) = (p.Stage, p.Cycle, p.Epoch);
            if (milestone) output.WriteLine($"{Title(p.Stage)}: {p.Message}");
        }
    }

    private sealed class Callback(Action<PruningProgress> report) : IProgress<PruningProgress>
    {
        public void Report(PruningProgress value) => report(value);
    }
}
