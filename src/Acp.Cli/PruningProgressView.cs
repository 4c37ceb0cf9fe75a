using Acp.Pruning.Pipeline;
using Spectre.Console;

namespace Acp.Cli;

/// <summary>
/// Shows a pruning run's progress: a Spectre.Console bar per stage (with ETA) on a terminal; when the output is
/// redirected (CI logs, <c>| tee</c>), a line per stage, swarm cycle and epoch, and at least one every 30 s of work;
/// nothing with --quiet or --json.
/// </summary>
internal static class PruningProgressView
{
    public static T Run<T>(TextWriter output, bool quiet, Func<IProgress<PruningProgress>?, T> work)
    {
        if (quiet) return work(null);
        var console = Terminal.For(output);
        if (!console.Profile.Capabilities.Interactive)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            return work(new LineProgress(output, () => clock.Elapsed));
        }
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

    /// <summary>
    /// For logs: a line when a stage starts, each swarm cycle ends and each epoch ends, and otherwise one at least every
    /// <see cref="Heartbeat"/> of work, so a log never goes quiet for minutes; not one per batch.
    /// </summary>
    internal sealed class LineProgress(TextWriter output, Func<TimeSpan> elapsed) : IProgress<PruningProgress>
    {
        /// <summary>The longest a log goes without a line while work is reported.</summary>
        public static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(30);

        private PruningStage? _stage;
        private int? _cycle;
        private int? _epoch;
        private TimeSpan _lastLine;

        public void Report(PruningProgress p)
        {
            var now = elapsed();
            var milestone = p.Stage != _stage
                || (p.Stage == PruningStage.Searching && p.Cycle != _cycle)
                || (p.Stage == PruningStage.FineTuning && p.Epoch != _epoch)
                || (p.Stage == PruningStage.Clustering && p.Completed == p.Total);
            (_stage, _cycle, _epoch) = (p.Stage, p.Cycle, p.Epoch);
            if (!milestone && now - _lastLine < Heartbeat) return;
            _lastLine = now;
            var fraction = p.Fraction is { } f ? $"{f.ToString("P0", System.Globalization.CultureInfo.InvariantCulture)}, " : "";
            output.WriteLine($"{Title(p.Stage)}: {p.Message} ({fraction}{(int)now.TotalMinutes}:{now.Seconds:00} elapsed)");
        }
    }

    private sealed class Callback(Action<PruningProgress> report) : IProgress<PruningProgress>
    {
        public void Report(PruningProgress value) => report(value);
    }
}
