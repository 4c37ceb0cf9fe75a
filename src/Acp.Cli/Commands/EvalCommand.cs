using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Acp.Engine.Backends;
using Acp.Data;
using Acp.Engine.Training;
using Acp.Onnx.Ir;

namespace Acp.Cli.Commands;

/// <summary><c>acp eval MODEL --data PATH</c>: top-1 (and top-5) accuracy on a data set's test split.</summary>
internal static class EvalCommand
{
    /// <summary>The result printed by <c>--json</c>.</summary>
    internal sealed record EvalReport(string Model, string Data, int Images, double Accuracy, double? Top5, double? MeanLoss, double Seconds);

    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = new Argument<FileInfo>("model") { Description = "The ONNX model file." };
        var data = DataOptions.Data();
        var mean = DataOptions.Mean();
        var std = DataOptions.Std();
        var batch = new Option<int>("--batch") { Description = "Images per batch.", DefaultValueFactory = _ => 256 }
            .Require(v => v >= 1, "--batch must be at least 1.");
        var device = DeviceOption.Create("the evaluation (--backend engine: cpu only; torchsharp: cpu or cuda)");
        var backend = BackendOption.Create();
        var json = new Option<bool>("--json") { Description = "Print one JSON object; its key 'accuracy' is the top-1 fraction (0..1)." };

        var command = new Command("eval", "Measure a model's top-1 (and top-5) accuracy on a data set's test split.");
        command.Arguments.Add(model);
        command.Options.Add(data);
        command.Options.Add(mean);
        command.Options.Add(std);
        command.Options.Add(batch);
        command.Options.Add(json);
        command.Options.Add(device);
        command.Options.Add(backend);
        command.SetAction((parse, cancellation) => CommandRunner.RunAsync(parse, error, token =>
        {
            var file = parse.GetValue(model)!;
            var folder = parse.GetValue(data)!;
            var compute = BackendOption.Resolve(parse.GetValue(backend)!, parse.GetValue(device));
            var clock = Stopwatch.StartNew();
            var onnx = OnnxModel.Load(file.FullName);
            var test = DataOptions.Open(folder.FullName, DatasetSplit.Test, onnx);
            var normalization = DataOptions.NormalizationFor(parse.GetValue(mean), parse.GetValue(std), onnx, file.Name, test.ImageShape.Channels);
            var loader = new BatchLoader(test, new BatchLoaderOptions { BatchSize = parse.GetValue(batch), Normalization = normalization });

            var quiet = parse.GetValue(json) || parse.GetValue(AcpCommandLine.Quiet);
            // Every backend is scored by the same counting of its logits (top-1, top-5, loss).
            using var network = compute.Build(onnx, 0);
            var result = quiet
                ? Evaluation.Accuracy(network, loader.GetBatches(0), cancellation: token)
                : Progress.Run(output, "Evaluating", test.Count, p => Evaluation.Accuracy(network, loader.GetBatches(0), p, token));
            return Task.FromResult(Print(new EvalReport(file.FullName, folder.FullName, result.Images, result.Top1, result.Top5, result.MeanLoss, clock.Elapsed.TotalSeconds)));

            int Print(EvalReport report)
            {
                if (parse.GetValue(json))
                {
                    output.WriteLine(JsonOutput.Serialize(report));
                }
                else
                {
                    var top5 = report.Top5 is { } t ? $", top-5 {t.ToString("P2", CultureInfo.InvariantCulture)}" : "";
                    output.WriteLine($"top-1 {report.Accuracy.ToString("P2", CultureInfo.InvariantCulture)}{top5} on {report.Images} test images ({report.Seconds:0.0} s)");
                }
                return ExitCodes.Success;
            }
        }, cancellation));
        return command;
    }
}
