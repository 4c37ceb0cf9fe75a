using Acp.Pruning.Pipeline;
using Spectre.Console;

namespace Acp.Cli;

/// <summary>
/// Shows a pruning run's progress: a Spectre.Console bar per stage (with ETA) on a terminal; when the output is
/// redirected (CI logs, <c>| tee</c>), a line per stage, swarm cycle and epoch, and at least one every 30 s of work;
/// a stage's last state when it ends; nothing with --quiet or --json.
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
            var lines = new LineProgress(output, () => clock.Elapsed);
            var done = work(lines);
            lines.Finish();
            return done;
        }
        T result = default!;
        console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(context =>
            {
                var tasks = new Dictionary<PruningStage, ProgressTask>();
                var estimates = new Dictionary<PruningStage, TimeSpan>();
                result = work(new Callback(p =>
                {
                    if (p.Estimates is { } given) foreach (var e in given) estimates[e.Stage] = e.Time;
                    if (!tasks.TryGetValue(p.Stage, out var task))
                    {
                        foreach (var earlier in tasks.Values) earlier.Value = earlier.MaxValue;
                        tasks[p.Stage] = task = context.AddTask(Markup.Escape(Title(p.Stage)), maxValue: Math.Max(1, p.Total));
                    }
                    if (p.Total > 0) task.MaxValue = p.Total;
                    task.Value = Math.Min(p.Completed, task.MaxValue);
                    var estimate = estimates.TryGetValue(p.Stage, out var time) ? $" (estimated {Duration(time)})" : "";
                    task.Description = Markup.Escape($"{Title(p.Stage)}{estimate}: {p.Message}{Rate(p, ", ")}");
                }));
                foreach (var task in tasks.Values) task.Value = task.MaxValue;
            });
        return result;
    }

    private static string Title(PruningStage stage) => stage switch
    {
        PruningStage.Estimating => "Estimating",
        PruningStage.Calibrating => "Calibrating",
        PruningStage.Clustering => "Clustering",
        PruningStage.Searching => "Searching",
        PruningStage.Finalists => "Finalists",
        PruningStage.FineTuning => "Fine-tuning",
        _ => "Exporting",
    };

    /// <summary>m:ss, or h:mm:ss from an hour.</summary>
    internal static string Duration(TimeSpan time) => time.TotalHours >= 1
        ? time.ToString(@"h\:mm\:ss", System.Globalization.CultureInfo.InvariantCulture)
        : $"{(int)time.TotalMinutes}:{time.Seconds:00}";

    /// <summary>", 12.3 images/s" when the report carries a throughput, else "".</summary>
    private static string Rate(PruningProgress p, string separator) => p.ImagesPerSecond is { } rate
        ? $"{separator}{rate.ToString(rate < 10 ? "0.00" : "0.0", System.Globalization.CultureInfo.InvariantCulture)} images/s"
        : "";

    /// <summary>
    /// For logs: a line when a stage starts, each swarm cycle ends and each epoch ends, and otherwise one at least every
    /// <see cref="Heartbeat"/> of work, so a log never goes quiet for minutes; not one per batch. The estimates get a
    /// line per stage when they arrive, and a stage that had one says, when it ends, how long it took.
    /// </summary>
    internal sealed class LineProgress(TextWriter output, Func<TimeSpan> elapsed) : IProgress<PruningProgress>
    {
        /// <summary>The longest a log goes without a line while work is reported.</summary>
        public static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(30);

        private readonly Dictionary<PruningStage, TimeSpan> _estimates = [];
        private (PruningProgress Report, TimeSpan At)? _unprinted;
        private PruningStage? _stage;
        private TimeSpan _stageStart;
        private int? _cycle;
        private int? _epoch;
        private TimeSpan _lastLine;

        public void Report(PruningProgress p)
        {
            var now = elapsed();
            if (p.Stage != _stage) EndStage(now);
            var milestone = p.Stage != _stage
                || (p.Stage == PruningStage.Searching && p.Cycle != _cycle)
                || (p.Stage == PruningStage.FineTuning && p.Epoch != _epoch)
                || (p.Stage == PruningStage.Clustering && p.Completed == p.Total)
                || p.Estimates is not null;
            if (p.Stage != _stage) _stageStart = now;
            (_stage, _cycle, _epoch) = (p.Stage, p.Cycle, p.Epoch);
            if (!milestone && now - _lastLine < Heartbeat)
            {
                _unprinted = (p, now);
                return;
            }
            _lastLine = now;
            Write(p, now);
            if (p.Estimates is { } estimates) WriteEstimates(estimates);
        }

        /// <summary>Closes the last stage's lines (its last state, its time against the estimate): call when the run returns.</summary>
        public void Finish() => EndStage(elapsed());

        private void Write(PruningProgress p, TimeSpan at)
        {
            _unprinted = null;
            var fraction = p.Fraction is { } f ? $"{f.ToString("P0", System.Globalization.CultureInfo.InvariantCulture)}, " : "";
            var rate = Rate(p, "").Length > 0 ? Rate(p, "") + ", " : "";
            output.WriteLine($"{Title(p.Stage)}: {p.Message} ({fraction}{rate}{Duration(at)} elapsed)");
        }

        private void WriteEstimates(IReadOnlyList<StageEstimate> estimates)
        {
            foreach (var e in estimates)
            {
                _estimates[e.Stage] = e.Time;
                output.WriteLine($"  estimated {Title(e.Stage),-12} {Duration(e.Time),8}  ({e.Basis})");
            }
            var total = TimeSpan.FromTicks(estimates.Sum(e => e.Time.Ticks));
            output.WriteLine($"  estimated {"total",-12} {Duration(total),8}");
        }

        private void EndStage(TimeSpan now)
        {
            // A stage's last state is worth a line (its final count and throughput) even between heartbeats.
            if (_unprinted is { } last) Write(last.Report, last.At);
            if (_stage is not { } stage || !_estimates.TryGetValue(stage, out var estimate)) return;
            _estimates.Remove(stage);
            output.WriteLine($"{Title(stage)} took {Duration(now - _stageStart)} (estimated {Duration(estimate)})");
        }
    }

    private sealed class Callback(Action<PruningProgress> report) : IProgress<PruningProgress>
    {
        public void Report(PruningProgress value) => report(value);
    }
}
