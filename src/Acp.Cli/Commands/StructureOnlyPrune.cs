using System.Globalization;
using Acp.Onnx.Ir;
using Acp.Onnx.Runtime;
using Acp.Pruning.Pipeline;
using Acp.Reporting;
using Spectre.Console;

namespace Acp.Cli.Commands;

/// <summary>
/// <c>acp prune</c> without data: every prunable group loses the same fraction (given, or found for a MAC/parameter
/// budget), chosen by L1 norm or at random; no retraining, so accuracy drops.
/// </summary>
internal static class StructureOnlyPrune
{
    /// <summary>What <c>--json</c> prints.</summary>
    internal sealed record Report(string Model, string Output, string Strategy, double Ratio, int RoundTo,
        int PrunableGroups, int ChannelsRemoved,
        long ParamsBefore, long ParamsAfter, long MacsBefore, long MacsAfter, long BytesBefore, long BytesAfter,
        double LatencyBeforeMs, double LatencyAfterMs, int LatencyBatch, int LatencyThreads, bool FineTuned);

    public static Task<int> RunAsync(PruneCommand.Job a, TextWriter output)
    {
        // The latency measurement and the proof run on ONNX Runtime: find a missing execution provider, or an input
        // model the runtime cannot run, before any work.
        new OrtSessionSettings { Device = a.Device }.CreateSessionOptions().Dispose();
        var original = OnnxModel.Load(a.Model.FullName);
        ProvenModelFile.ProveInput(File.ReadAllBytes(a.Model.FullName), a.Device);
        var options = a.Pruning;
        var result = PruningPipeline.Run(original, null, options);
        ProvenModelFile.Write(result.Model.ToBytes(), a.Output.FullName, a.Device);

        var report = new Report(a.Model.FullName, a.Output.FullName, PruningReport.Name(result.Strategy), result.UniformRatio ?? 0, options.RoundTo,
            result.Widths.Count, result.Widths.Sum(w => w.OriginalWidth - w.PrunedWidth),
            result.Original.Params, result.Pruned.Params, result.Original.Macs, result.Pruned.Macs, a.Model.Length, new FileInfo(a.Output.FullName).Length,
            LatencyMeter.MedianMilliseconds(File.ReadAllBytes(a.Model.FullName), a.LatencyBatch, a.LatencyThreads, device: a.Device),
            LatencyMeter.MedianMilliseconds(File.ReadAllBytes(a.Output.FullName), a.LatencyBatch, a.LatencyThreads, device: a.Device),
            a.LatencyBatch, a.LatencyThreads, FineTuned: false);
        if (a.Json) output.WriteLine(JsonOutput.Serialize(report));
        else Render(report, Terminal.For(output));
        return Task.FromResult(ExitCodes.Success);
    }

    private static void Render(Report r, IAnsiConsole console)
    {
        console.MarkupLine($"Pruned [bold]{Markup.Escape(r.Model)}[/] with {r.Strategy}, ratio {r.Ratio.ToString("0.###", CultureInfo.InvariantCulture)}, widths rounded to {r.RoundTo}: " +
            $"{r.ChannelsRemoved} channels removed from {r.PrunableGroups} prunable groups.");
        var table = new Table().Border(TableBorder.Rounded).AddColumns("", "before", "after", "after / before");
        foreach (var column in table.Columns.Skip(1)) column.RightAligned();
        Tables.CountRow(table, "parameters", r.ParamsBefore, r.ParamsAfter);
        Tables.CountRow(table, "MACs", r.MacsBefore, r.MacsAfter);
        Tables.CountRow(table, "file bytes", r.BytesBefore, r.BytesAfter);
        Tables.LatencyRow(table, r.LatencyBatch, r.LatencyThreads, r.LatencyBeforeMs, r.LatencyAfterMs);
        console.Write(table);
        console.MarkupLine($"Wrote {Markup.Escape(r.Output)}. Not fine-tuned: accuracy will have dropped; give --data to search and retrain.");
    }
}

/// <summary>Rows shared by the prune and bench tables.</summary>
internal static class Tables
{
    public static void CountRow(Table table, string what, long before, long after) =>
        table.AddRow(what, before.ToString("N0", CultureInfo.InvariantCulture), after.ToString("N0", CultureInfo.InvariantCulture),
            (after / (double)Math.Max(1, before)).ToString("0.000", CultureInfo.InvariantCulture));

    public static void LatencyRow(Table table, int batch, int threads, double before, double after) =>
        table.AddRow($"ORT latency (batch {batch}, {threads} thread{(threads == 1 ? "" : "s")}, median)",
            $"{before.ToString("0.000", CultureInfo.InvariantCulture)} ms", $"{after.ToString("0.000", CultureInfo.InvariantCulture)} ms",
            (after / before).ToString("0.000", CultureInfo.InvariantCulture));

    public static void AccuracyRow(Table table, string what, double? before, double? after) =>
        table.AddRow(what, before?.ToString("P2", CultureInfo.InvariantCulture) ?? "—", after?.ToString("P2", CultureInfo.InvariantCulture) ?? "—",
            before is { } b && after is { } a ? $"{((a - b) * 100).ToString("+0.00;-0.00", CultureInfo.InvariantCulture)} pt" : "");
}
