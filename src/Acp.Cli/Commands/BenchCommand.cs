using System.CommandLine;
using System.Globalization;
using Acp.Onnx;
using Acp.Onnx.Analysis;
using Acp.Onnx.Ir;
using Acp.Onnx.Runtime;
using Spectre.Console;

namespace Acp.Cli.Commands;

/// <summary><c>acp bench MODEL [OTHER]</c>: ONNX Runtime latency of one model, or of two side by side (e.g. before and after pruning).</summary>
internal static class BenchCommand
{
    /// <summary>One model's measurement in the JSON.</summary>
    internal sealed record ModelLatency(string Model, long Params, long Macs, double MedianMs, double ImagesPerSecond);

    /// <summary>What <c>--json</c> prints.</summary>
    internal sealed record Report(int Batch, int Threads, string Device, int Runs, IReadOnlyList<ModelLatency> Models, double? SpeedUp);

    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = new Argument<FileInfo>("model") { Description = "The ONNX model to time." };
        var other = new Argument<FileInfo?>("other") { Description = "A second model to time alternately with the first (e.g. the pruned one).", Arity = ArgumentArity.ZeroOrOne };
        var batch = Positive("--batch", "Images per run.", 1);
        var threads = Positive("--threads", "ONNX Runtime intra-op threads.", 1);
        var runs = Positive("--runs", "Timed runs per model (the median is reported).", 50);
        var rounds = Positive("--rounds", "With two models: alternate this many times, so machine load hits both alike.", 3);
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of a table." };
        var device = DeviceOption.Create("ONNX Runtime (timing the models)");
        var command = new Command("bench", "Measure ONNX Runtime latency of a model, or compare two models side by side.");
        command.Arguments.Add(model);
        command.Arguments.Add(other);
        foreach (var option in new Option[] { batch, threads, runs, rounds, json, device }) command.Options.Add(option);
        command.SetAction((parse, cancellation) => CommandRunner.RunAsync(parse, error, token =>
        {
            var on = parse.GetValue(device);
            // A missing execution provider is found before the models are read.
            new OrtSessionSettings { Device = on }.CreateSessionOptions().Dispose();
            var files = new[] { parse.GetValue(model)!, parse.GetValue(other) }.OfType<FileInfo>().ToArray();
            var models = files.Select(f => (File: f, Model: OnnxModel.Load(f.FullName))).ToArray();
            var bytes = models.Select(m => m.Model.ToBytes()).ToArray();
            int b = parse.GetValue(batch), t = parse.GetValue(threads), n = parse.GetValue(runs);
            var alternations = files.Length == 1 ? 1 : parse.GetValue(rounds);
            var samples = models.Select(_ => new List<double>()).ToArray();
            for (var round = 0; round < alternations; round++)
            {
                for (var i = 0; i < models.Length; i++)
                {
                    token.ThrowIfCancellationRequested();
                    samples[i].Add(LatencyMeter.MedianMilliseconds(bytes[i], b, t, warmup: 5, runs: n, device: on));
                }
            }
            var results = models.Select((m, i) =>
            {
                var cost = ModelCost.Compute(m.Model, ShapeInference.Run(m.Model));
                var median = Median(samples[i]);
                return new ModelLatency(m.File.FullName, cost.TotalParams, cost.TotalMacs, median, b * 1000 / median);
            }).ToArray();
            var report = new Report(b, t, on.ToString(), n * alternations, results, results.Length == 2 ? results[0].MedianMs / results[1].MedianMs : null);
            if (parse.GetValue(json)) output.WriteLine(JsonOutput.Serialize(report));
            else Render(report, Terminal.For(output));
            return Task.FromResult(ExitCodes.Success);
        }, cancellation));
        return command;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static void Render(Report r, IAnsiConsole console)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumns("model", "params", "MACs", "median latency", "images/s");
        foreach (var column in table.Columns.Skip(1)) column.RightAligned();
        foreach (var m in r.Models)
        {
            table.AddRow(Markup.Escape(Path.GetFileName(m.Model)), m.Params.ToString("N0", CultureInfo.InvariantCulture), m.Macs.ToString("N0", CultureInfo.InvariantCulture),
                m.MedianMs.ToString("0.000", CultureInfo.InvariantCulture) + " ms", m.ImagesPerSecond.ToString("N0", CultureInfo.InvariantCulture));
        }
        console.Write(table);
        console.MarkupLine($"ONNX Runtime {Markup.Escape(OrtRuntime.Version)} on {r.Device}, batch {r.Batch}, {r.Threads} thread(s), {r.Runs} timed runs per model.");
        if (r.SpeedUp is { } s) console.MarkupLine($"Speed-up of the second model: [bold]{s.ToString("0.00", CultureInfo.InvariantCulture)}×[/]");
    }

    private static Option<int> Positive(string name, string description, int fallback)
    {
        return new Option<int>(name) { Description = description, DefaultValueFactory = _ => fallback }
            .Require(v => v >= 1, $"{name} must be at least 1.");
    }
}
