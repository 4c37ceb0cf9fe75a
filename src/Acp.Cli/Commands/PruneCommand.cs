using System.CommandLine;
using System.Globalization;
using Acp.Onnx.Analysis;
using Acp.Onnx.Channels;
using Acp.Onnx.Ir;
using Acp.Onnx.Runtime;
using Acp.Pruning;
using Spectre.Console;

namespace Acp.Cli.Commands;

/// <summary>
/// <c>acp prune MODEL --strategy l1|random --ratio R --out OUT.onnx</c>: removes the fraction R of the channels of every
/// prunable group and writes a physically smaller model, with before/after size and ONNX Runtime latency.
/// </summary>
internal static class PruneCommand
{
    /// <summary>What <c>--json</c> prints.</summary>
    internal sealed record PruneReport(string Model, string Output, string Strategy, double Ratio, int RoundTo,
        int PrunableGroups, int FencedGroups, int ChannelsRemoved,
        long ParamsBefore, long ParamsAfter, long MacsBefore, long MacsAfter, long BytesBefore, long BytesAfter,
        double LatencyBeforeMs, double LatencyAfterMs, int LatencyBatch, int LatencyThreads, bool FineTuned);

    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = new Argument<FileInfo>("model") { Description = "The ONNX model to prune." };
        var strategy = new Option<string>("--strategy") { Description = "Which channels to keep: l1 (largest filter L1 norms) or random.", DefaultValueFactory = _ => "l1" };
        strategy.AcceptOnlyFromAmong("l1", "random");
        var ratio = new Option<double>("--ratio") { Description = "Fraction of every prunable group's channels to remove (0..1).", Required = true };
        ratio.Validators.Add(r =>
        {
            var v = r.GetValueOrDefault<double>();
            if (!(v >= 0 && v < 1)) r.AddError("--ratio must be at least 0 and below 1.");
        });
        var roundTo = new Option<int>("--round-to") { Description = "Round every kept width to a multiple of N (1 = no rounding).", DefaultValueFactory = _ => ChannelRounding.DefaultMultiple };
        roundTo.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() < 1) r.AddError("--round-to must be at least 1.");
        });
        var seed = new Option<int>("--seed") { Description = "Seed of the random strategy.", DefaultValueFactory = _ => 0 };
        var noFineTune = new Option<bool>("--no-finetune") { Description = "Only remove channels; do not retrain (structure-only strategies never retrain yet)." };
        var outPath = new Option<FileInfo>("--out") { Description = "Where to write the pruned model.", Required = true };
        var force = new Option<bool>("--force") { Description = "Overwrite --out if it exists." };
        var batch = new Option<int>("--latency-batch") { Description = "Batch size of the latency measurement.", DefaultValueFactory = _ => 1 };
        var threads = new Option<int>("--latency-threads") { Description = "ONNX Runtime intra-op threads of the latency measurement.", DefaultValueFactory = _ => 1 };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of a table." };

        var command = new Command("prune", "Remove channels from a model and write a physically smaller ONNX file.");
        command.Arguments.Add(model);
        foreach (var option in new Option[] { strategy, ratio, roundTo, seed, noFineTune, outPath, force, batch, threads, json }) command.Options.Add(option);
        command.SetAction((parse, cancellation) => CommandRunner.RunAsync(parse, error, _ =>
        {
            var input = parse.GetValue(model)!;
            var target = parse.GetValue(outPath)!;
            if (string.Equals(input.FullName, target.FullName, StringComparison.Ordinal))
            {
                throw new ArgumentException("--out names the input model; write the pruned model to another file.");
            }
            if (target.Exists && !parse.GetValue(force))
            {
                throw new ArgumentException($"{target.FullName} exists; pass --force to overwrite it.");
            }
            var original = OnnxModel.Load(input.FullName);
            var analysis = ChannelAnalysis.Run(original);
            ChannelSelectionStrategy selector = parse.GetValue(strategy) == "random" ? new RandomStrategy(parse.GetValue(seed)) : new L1NormStrategy();
            var keep = selector.Select(analysis, parse.GetValue(ratio), parse.GetValue(roundTo));
            var result = ChannelSurgery.Apply(analysis, keep);
            result.Model.Save(target.FullName, overwrite: true);

            var before = ModelCost.Compute(original, ShapeInference.Run(original));
            var after = ModelCost.Compute(result.Model, ShapeInference.Run(result.Model));
            var latencyBatch = parse.GetValue(batch);
            var latencyThreads = parse.GetValue(threads);
            var report = new PruneReport(input.FullName, target.FullName, selector.Name, parse.GetValue(ratio), parse.GetValue(roundTo),
                analysis.PrunableGroups.Count, analysis.FencedGroups.Count, result.Report.ChannelsRemoved,
                before.TotalParams, after.TotalParams, before.TotalMacs, after.TotalMacs, input.Length, new FileInfo(target.FullName).Length,
                LatencyMeter.MedianMilliseconds(File.ReadAllBytes(input.FullName), latencyBatch, latencyThreads),
                LatencyMeter.MedianMilliseconds(File.ReadAllBytes(target.FullName), latencyBatch, latencyThreads),
                latencyBatch, latencyThreads, FineTuned: false);
            if (parse.GetValue(json)) output.WriteLine(JsonOutput.Serialize(report));
            else Render(report, Terminal.For(output));
            return Task.FromResult(ExitCodes.Success);
        }, cancellation));
        return command;
    }

    private static void Render(PruneReport r, IAnsiConsole console)
    {
        console.MarkupLine($"Pruned [bold]{Markup.Escape(r.Model)}[/] with {r.Strategy}, ratio {r.Ratio.ToString(CultureInfo.InvariantCulture)}, widths rounded to {r.RoundTo}: " +
            $"{r.ChannelsRemoved} channels removed from {r.PrunableGroups} prunable groups ({r.FencedGroups} fenced).");
        var table = new Table().Border(TableBorder.Rounded).AddColumns("", "before", "after", "after / before");
        foreach (var column in table.Columns.Skip(1)) column.RightAligned();
        Row(table, "parameters", r.ParamsBefore, r.ParamsAfter);
        Row(table, "MACs", r.MacsBefore, r.MacsAfter);
        Row(table, "file bytes", r.BytesBefore, r.BytesAfter);
        table.AddRow($"ORT latency (batch {r.LatencyBatch}, {r.LatencyThreads} thread{(r.LatencyThreads == 1 ? "" : "s")}, median)",
            $"{r.LatencyBeforeMs:0.000} ms", $"{r.LatencyAfterMs:0.000} ms", $"{r.LatencyAfterMs / r.LatencyBeforeMs:0.000}");
        console.Write(table);
        console.MarkupLine($"Wrote {Markup.Escape(r.Output)}. Not fine-tuned: accuracy will have dropped; retraining comes with the ACP strategy.");
    }

    private static void Row(Table table, string what, long before, long after) =>
        table.AddRow(what, before.ToString("N0", CultureInfo.InvariantCulture), after.ToString("N0", CultureInfo.InvariantCulture),
            (after / (double)Math.Max(1, before)).ToString("0.000", CultureInfo.InvariantCulture));
}
