using System.Globalization;
using Acp.Data;
using Acp.Engine.Execution;
using Acp.Engine.Training;
using Acp.Onnx.Ir;
using Acp.Onnx.Runtime;
using Acp.Pruning.Pipeline;
using Acp.Reporting;
using Spectre.Console;

namespace Acp.Cli.Commands;

/// <summary>
/// <c>acp prune MODEL --data DIR ...</c>: runs the pruning pipeline, writes the model, then proves it: cost, test
/// accuracy of both models (the test split is opened only now, after the model is written), ONNX Runtime latency.
/// </summary>
internal static class PruneRun
{
    /// <summary>A group's widths in the JSON.</summary>
    internal sealed record WidthEntry(string Name, int Before, int After);

    /// <summary>A baseline run at the same budget, in the JSON.</summary>
    internal sealed record BaselineEntry(string Strategy, long Macs, long Params, double? ValidationAccuracy, double? TestAccuracy);

    /// <summary>What <c>--json</c> prints.</summary>
    internal sealed record Report(string Model, string Output, string Strategy, double? TargetFlops, double? TargetParams, int Seed, int Epochs,
        long ParamsBefore, long ParamsAfter, long MacsBefore, long MacsAfter, long BytesBefore, long BytesAfter,
        double? ValidationAccuracyBefore, double? ValidationAccuracyPruned, double? ValidationAccuracyAfter,
        double? TestAccuracyBefore, double? TestAccuracyAfter,
        double LatencyBeforeMs, double LatencyAfterMs, int LatencyBatch, int LatencyThreads,
        double? Epsilon, double? UniformRatio, int Evaluations, int Finalists, double SearchSeconds, double TotalSeconds,
        string RunDirectory, string? ReportPath, IReadOnlyList<WidthEntry> Widths, IReadOnlyList<BaselineEntry> Baselines);

    public static async Task<int> RunAsync(PruneCommand.Job a, TextWriter output, CancellationToken cancellation)
    {
        // The latency proof at the end runs on ONNX Runtime: find a missing execution provider now, not after the search
        // and the fine-tuning.
        new OrtSessionSettings { Device = a.Device }.CreateSessionOptions().Dispose();
        var model = OnnxModel.Load(a.Model.FullName);
        ProvenModelFile.ProveInput(File.ReadAllBytes(a.Model.FullName), a.Device);
        var training = DataOptions.Open(a.Data!.FullName, DatasetSplit.Train, model);
        // Resolved here, not only inside the pipeline: the test split below is normalised as training was.
        var options = (a.Pruning with { Normalization = DataOptions.Normalization(a.Mean, a.Std, training.ImageShape.Channels) }).ResolvedFor(model, training);
        var quiet = a.Json || a.Quiet;
        if (a.Force && !options.Resume && Directory.Exists(options.RunDirectory)) Directory.Delete(options.RunDirectory!, recursive: true);

        var result = PruningProgressView.Run(output, quiet, p => PruningPipeline.Run(model, training, options, MemoryTrace.Wrap(p), cancellation));
        MemoryTrace.Mark("pipeline done");
        ProvenModelFile.Write(result.Model.ToBytes(), a.Output.FullName, a.Device);

        var baselines = new List<(PruningStrategy Strategy, PruningResult Result, double? Test)>();
        if (a.CompareBaselines)
        {
            foreach (var strategy in new[] { PruningStrategy.L1, PruningStrategy.Random }.Where(s => s != options.Strategy))
            {
                if (!quiet) output.WriteLine($"Baseline {PruningReport.Name(strategy)} at the same budget and fine-tuning:");
                var baselineOptions = options with { Strategy = strategy, RunDirectory = Path.Combine(options.RunDirectory!, "baseline-" + PruningReport.Name(strategy)) };
                var baseline = PruningProgressView.Run(output, quiet, p => PruningPipeline.Run(model, training, baselineOptions, p, cancellation));
                baselines.Add((strategy, baseline, null));
            }
        }

        double? testBefore = null, testAfter = null;
        if (!a.SkipTest)
        {
            var test = DataOptions.Open(a.Data!.FullName, DatasetSplit.Test, model);
            // The run's batch size, not a larger one: a network's buffers grow with the batch, and the logits do not change.
            var loader = new BatchLoader(test, new BatchLoaderOptions { BatchSize = BatchLoaderOptions.ForwardBatchSize(test.ImageShape, options.BatchSize), Normalization = options.Normalization });
            double Test(OnnxModel m)
            {
                var network = Network.Build(m);
                var top1 = Evaluation.Accuracy(network, loader.GetBatches(0), cancellation: cancellation).Top1;
                network.ReleaseBuffers();
                return top1;
            }
            testBefore = Test(model);
            testAfter = Test(result.Model);
            for (var i = 0; i < baselines.Count; i++) baselines[i] = baselines[i] with { Test = Test(baselines[i].Result.Model) };
            MemoryTrace.Mark("test accuracy done");
        }

        var before = File.ReadAllBytes(a.Model.FullName);
        var after = File.ReadAllBytes(a.Output.FullName);
        var latencyBefore = LatencyMeter.MedianMilliseconds(before, a.LatencyBatch, a.LatencyThreads, device: a.Device);
        var latencyAfter = LatencyMeter.MedianMilliseconds(after, a.LatencyBatch, a.LatencyThreads, device: a.Device);
        MemoryTrace.Mark("latency done");

        string? reportPath = null;
        if (a.Report is { } folder)
        {
            var rows = new List<ReportRow>
            {
                new("Test accuracy", Percent(testBefore), Percent(testAfter)),
                new($"ONNX Runtime latency (batch {a.LatencyBatch}, {a.LatencyThreads} thread(s), median)", Ms(latencyBefore), $"{Ms(latencyAfter)} ({(latencyAfter / latencyBefore).ToString("0.000", CultureInfo.InvariantCulture)}×)"),
                new("File size", $"{before.Length:N0} bytes", $"{after.Length:N0} bytes"),
            };
            foreach (var (strategy, baseline, test) in baselines)
            {
                rows.Add(new($"{PruningReport.Name(strategy)} baseline: validation / test accuracy", "", $"{Percent(baseline.Pruned.ValidationAccuracy)} / {Percent(test)}"));
            }
            var points = baselines.Select(b => new BaselinePoint(PruningReport.Name(b.Strategy) + " (before fine-tuning)",
                b.Result.PrunedBeforeFineTuning.Macs / (double)b.Result.Original.Macs, b.Result.PrunedBeforeFineTuning.ValidationAccuracy ?? double.NaN));
            var data = PruningReport.Create(result, options, a.Model.Name, rows, points,
                ["Candidate points are the search's fitness: accuracy on the fitness images after BatchNormalization recalibration (and --fitness-steps or acp-paper's epochs of training, when used), before fine-tuning. Baseline points are validation accuracies after recalibration, before fine-tuning."]);
            reportPath = await HtmlReport.WriteAsync(data, folder.FullName, cancellation);
        }

        var report = new Report(a.Model.FullName, a.Output.FullName, PruningReport.Name(result.Strategy), options.TargetFlops, options.TargetParams, options.Seed, options.Epochs,
            result.Original.Params, result.Pruned.Params, result.Original.Macs, result.Pruned.Macs, before.Length, after.Length,
            result.Original.ValidationAccuracy, result.PrunedBeforeFineTuning.ValidationAccuracy, result.Pruned.ValidationAccuracy, testBefore, testAfter,
            latencyBefore, latencyAfter, a.LatencyBatch, a.LatencyThreads, result.Epsilon, result.UniformRatio, result.Candidates.Count, result.Finalists.Count,
            result.SearchTime.TotalSeconds, result.TotalTime.TotalSeconds, options.RunDirectory!, reportPath,
            result.Widths.Select(w => new WidthEntry(w.Name, w.OriginalWidth, w.PrunedWidth)).ToArray(),
            baselines.Select(b => new BaselineEntry(PruningReport.Name(b.Strategy), b.Result.Pruned.Macs, b.Result.Pruned.Params, b.Result.Pruned.ValidationAccuracy, b.Test)).ToArray());
        if (a.Json) output.WriteLine(JsonOutput.Serialize(report));
        else Render(report, Terminal.For(output));
        return ExitCodes.Success;
    }

    private static void Render(Report r, IAnsiConsole console)
    {
        var budget = string.Join(" and ", new[] { r.TargetFlops is { } f ? $"≤ {f:0.###}× MACs" : null, r.TargetParams is { } p ? $"≤ {p:0.###}× params" : null }.OfType<string>());
        console.MarkupLine($"Pruned [bold]{Markup.Escape(Path.GetFileName(r.Model))}[/] with {r.Strategy} to {budget}: {r.Evaluations} candidates scored{(r.Finalists > 0 ? $", {r.Finalists} finalists" : "")}, " +
            $"search {r.SearchSeconds:0.0} s, total {r.TotalSeconds:0.0} s.");
        var table = new Table().Border(TableBorder.Rounded).AddColumns("", "before", "after", "change");
        foreach (var column in table.Columns.Skip(1)) column.RightAligned();
        Tables.CountRow(table, "parameters", r.ParamsBefore, r.ParamsAfter);
        Tables.CountRow(table, "MACs", r.MacsBefore, r.MacsAfter);
        Tables.CountRow(table, "file bytes", r.BytesBefore, r.BytesAfter);
        Tables.AccuracyRow(table, "validation accuracy (before fine-tuning)", r.ValidationAccuracyBefore, r.ValidationAccuracyPruned);
        Tables.AccuracyRow(table, "validation accuracy", r.ValidationAccuracyBefore, r.ValidationAccuracyAfter);
        if (r.TestAccuracyBefore is not null) Tables.AccuracyRow(table, "test accuracy", r.TestAccuracyBefore, r.TestAccuracyAfter);
        Tables.LatencyRow(table, r.LatencyBatch, r.LatencyThreads, r.LatencyBeforeMs, r.LatencyAfterMs);
        console.Write(table);
        foreach (var b in r.Baselines)
        {
            console.MarkupLine($"Baseline {b.Strategy}: {b.Macs:N0} MACs, validation {Percent(b.ValidationAccuracy)}, test {Percent(b.TestAccuracy)}.");
        }
        console.MarkupLine($"Wrote {Markup.Escape(r.Output)}; evaluation log and checkpoints in {Markup.Escape(r.RunDirectory)}.");
        if (r.ReportPath is not null) console.MarkupLine($"Report: {Markup.Escape(r.ReportPath)}");
    }

    private static string Percent(double? value) => value?.ToString("P2", CultureInfo.InvariantCulture) ?? "—";

    private static string Ms(double value) => value.ToString("0.000", CultureInfo.InvariantCulture) + " ms";
}
