using System.Diagnostics;
using System.Globalization;
using Acp.Pruning.Pipeline;

namespace Acp.Cli;

/// <summary>
/// A diagnostic for measuring where a prune's memory goes (docs/benchmarks.md, issue 19): when the environment variable
/// <c>ACP_MEMORY_TRACE</c> names a file, a line is appended to it at every stage boundary and every progress report of the
/// search, finalists and each fine-tuning epoch: elapsed seconds, the stage, the process's resident set (<c>VmRSS</c>) and
/// its peak (<c>VmHWM</c>) from /proc/self/status, and the GC's view (heap size after the last collection, committed
/// bytes, gen-2 collections). It only reads counters: no collection is induced, so it does not change what it measures.
/// Unset (the default), nothing is wrapped and nothing is read.
/// </summary>
internal sealed class MemoryTrace : IProgress<PruningProgress>
{
    private const string Variable = "ACP_MEMORY_TRACE";
    private readonly IProgress<PruningProgress>? _inner;
    private readonly string _path;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private PruningStage? _stage;
    private long _lastCompleted = -1;

    private MemoryTrace(IProgress<PruningProgress>? inner, string path)
    {
        _inner = inner;
        _path = path;
    }

    /// <summary><paramref name="inner"/> itself when the trace is off; otherwise a progress that also writes the trace.</summary>
    public static IProgress<PruningProgress>? Wrap(IProgress<PruningProgress>? inner) =>
        Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } path ? new MemoryTrace(inner, path) : inner;

    /// <summary>Writes one line labelled <paramref name="label"/> when the trace is on (for the steps after the pipeline).</summary>
    public static void Mark(string label)
    {
        if (Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } path) Append(path, "-", label);
    }

    public void Report(PruningProgress value)
    {
        _inner?.Report(value);
        var boundary = value.Stage != _stage;
        // Every candidate and finalist, and fine-tuning once per epoch: enough to see growth without a line per batch.
        var sample = boundary || value.Stage is PruningStage.Searching or PruningStage.Finalists
            || (value.Stage == PruningStage.FineTuning && value.Completed != _lastCompleted && value.Message.Contains("epoch", StringComparison.Ordinal)
                && value.Completed % Math.Max(1, value.Total / 12) == 0);
        _stage = value.Stage;
        _lastCompleted = value.Completed;
        if (sample) Append(_path, _clock.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture), $"{value.Stage} {value.Completed}/{value.Total}");
    }

    private static void Append(string path, string seconds, string label)
    {
        var (rss, hwm) = Resident();
        var gc = GC.GetGCMemoryInfo();
        var line = string.Create(CultureInfo.InvariantCulture,
            $"{seconds}\t{label}\trss {rss / 1024.0:0}MB\thwm {hwm / 1024.0:0}MB\theap {gc.HeapSizeBytes / 1048576.0:0}MB\tcommitted {gc.TotalCommittedBytes / 1048576.0:0}MB\tgen2 {GC.CollectionCount(2)}");
        File.AppendAllText(path, line + Environment.NewLine);
    }

    /// <summary>VmRSS and VmHWM in kB, or zeros where /proc is missing.</summary>
    private static (long Rss, long Hwm) Resident()
    {
        const string status = "/proc/self/status";
        if (!File.Exists(status)) return (0, 0);
        long rss = 0, hwm = 0;
        foreach (var line in File.ReadLines(status))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) rss = Kilobytes(line);
            else if (line.StartsWith("VmHWM:", StringComparison.Ordinal)) hwm = Kilobytes(line);
        }
        return (rss, hwm);

        static long Kilobytes(string line) =>
            long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture);
    }
}
