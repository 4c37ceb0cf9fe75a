using System.Globalization;
using Acp.Pruning.Pipeline;

namespace Acp.Reporting;

/// <summary>Maps a pruning run onto the report's data.</summary>
public static class PruningReport
{
    /// <summary>The report of <paramref name="result"/>.</summary>
    /// <param name="result">The run.</param>
    /// <param name="options">Its options (for the budget).</param>
    /// <param name="modelName">The model's file name.</param>
    /// <param name="extraRows">Rows measured outside the run (test accuracy, latency), after the run's own rows.</param>
    /// <param name="baselines">Other strategies' results at the same budget, if they were run.</param>
    /// <param name="notes">Remarks to show at the end.</param>
    public static ReportData Create(PruningResult result, PruningOptions options, string modelName,
        IEnumerable<ReportRow>? extraRows = null, IEnumerable<BaselinePoint>? baselines = null, IEnumerable<string>? notes = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(options);
        var original = result.Original;
        var chosen = result.Widths.Select(w => w.PrunedWidth).ToArray();
        var rows = new List<ReportRow>
        {
            new("Parameters", Count(original.Params), $"{Count(result.Pruned.Params)} ({Ratio(result.Pruned.Params, original.Params)})"),
            new("MACs per image", Count(original.Macs), $"{Count(result.Pruned.Macs)} ({Ratio(result.Pruned.Macs, original.Macs)})"),
            new("Validation accuracy", Percent(original.ValidationAccuracy), Percent(result.Pruned.ValidationAccuracy)),
            new("Validation accuracy before fine-tuning", "", Percent(result.PrunedBeforeFineTuning.ValidationAccuracy)),
        };
        rows.AddRange(extraRows ?? []);
        var budget = new List<string>();
        if (options.TargetFlops is { } m) budget.Add($"≤ {m.ToString("0.###", CultureInfo.InvariantCulture)} × the original MACs");
        if (options.TargetParams is { } p) budget.Add($"≤ {p.ToString("0.###", CultureInfo.InvariantCulture)} × the original parameters");
        var allNotes = new List<string>
        {
            $"Search {result.SearchTime.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s, whole run {result.TotalTime.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s; " +
            $"{result.Candidates.Count} candidate structures scored; fine-tuning {options.Epochs} epoch(s); seed {options.Seed}.",
        };
        if (result.Finalists.Count > 0)
        {
            var scores = string.Join("; ", result.Finalists.Select(f =>
                $"{string.Join(",", f.Widths)}{(f.Widths.AsSpan().SequenceEqual(chosen) ? " (kept)" : "")}: {f.Accuracy.ToString("P2", CultureInfo.InvariantCulture)}"));
            allNotes.Add($"Finalists, scored on the whole validation split after {options.FinalistSteps} distilled steps each (the swarm's best first, the uniform structure last): {scores}.");
        }
        var cuts = result.Candidates.Where(c => c.Stage == CandidateStage.AipCut).ToArray();
        var recoveries = result.Candidates.Where(c => c.Stage == CandidateStage.AipRecovered).ToArray();
        if (recoveries.Length > 0)
        {
            var steps = string.Join("; ", recoveries.Select(r => cuts.FirstOrDefault(c => c.Index == r.Index) is { } cut
                ? $"{Ratio(r.Macs, original.Macs)} MACs: {Percent(cut.Accuracy)} → {Percent(r.Accuracy)}"
                : $"{Ratio(r.Macs, original.Macs)} MACs: {Percent(r.Accuracy)}"));
            allNotes.Add($"AIP steps, validation accuracy after each cut → after its {options.Aip.RecoverySteps} recovery steps: {steps}.");
        }
        if (result.Epsilon is { } e) allNotes.Add($"DBSCAN ε = {e.ToString("0.######", CultureInfo.InvariantCulture)} (cosine distance, minPts {options.MinPoints}).");
        if (result.UniformRatio is { } r) allNotes.Add($"Every prunable group lost {r.ToString("P1", CultureInfo.InvariantCulture)} of its channels (before rounding to multiples of {options.RoundTo}).");
        allNotes.AddRange(notes ?? []);
        return new ReportData
        {
            ModelName = modelName,
            Strategy = Name(result.Strategy),
            TargetDescription = string.Join(" and ", budget),
            TargetFlopsFraction = options.TargetFlops,
            Summary = rows,
            Convergence = result.SearchHistory.Select(c => new ConvergencePoint(c.Cycle, c.BestFitness, c.MeanFitness)).ToArray(),
            Layers = result.Widths.Select(w => new LayerWidth(w.Name, w.OriginalWidth, w.PrunedWidth)).ToArray(),
            // An AIP step's cut has the chosen widths too; the chosen point is its recovered score.
            Candidates = result.Candidates.Select(c => new CandidatePoint(c.Macs / (double)original.Macs, c.Accuracy,
                c.Stage != CandidateStage.AipCut && c.Widths.AsSpan().SequenceEqual(chosen))).ToArray(),
            Baselines = (baselines ?? []).ToArray(),
            Notes = allNotes,
        };
    }

    /// <summary>The strategy's command-line name ("acp", "acp-paper", "l1", ...).</summary>
    public static string Name(PruningStrategy strategy) => strategy switch
    {
        PruningStrategy.AcpPaper => "acp-paper",
        _ => strategy.ToString().ToLowerInvariant(),
    };

    private static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string Ratio(long after, long before) => (after / (double)Math.Max(1, before)).ToString("0.000", CultureInfo.InvariantCulture) + "×";

    private static string Percent(double? value) => value is { } v ? v.ToString("P2", CultureInfo.InvariantCulture) : "—";
}
