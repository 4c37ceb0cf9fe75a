using System.CommandLine;
using Acp.Data;
using Acp.Pruning.Pipeline;

namespace Acp.Cli.Commands;

/// <summary>
/// <c>acp demo</c>: the embedded default. Prunes the shipped Fashion-MNIST ResNet-20 to half its MACs with ACP on the
/// Debian Fashion-MNIST data, fine-tunes briefly, exports, and compares accuracy and ONNX Runtime latency in a report.
/// </summary>
internal static class DemoCommand
{
    /// <summary>Where Debian's dataset-fashion-mnist package puts the files.</summary>
    public const string DefaultData = "/usr/share/datasets/fashion-mnist";

    /// <summary>The embedded model's resource name and file name.</summary>
    public const string ModelName = "fashion_resnet20.onnx";

    public static Command Create(TextWriter output, TextWriter error)
    {
        var folder = new Option<DirectoryInfo>("--out") { Description = "Folder for the models, the run log and the report.", DefaultValueFactory = _ => new DirectoryInfo("acp-demo") };
        var data = new Option<DirectoryInfo>("--data") { Description = "Fashion-MNIST IDX files.", DefaultValueFactory = _ => new DirectoryInfo(DefaultData) };
        var epochs = new Option<int>("--epochs") { Description = "Fine-tuning epochs.", DefaultValueFactory = _ => 1 }
            .Require(v => v >= 0, "--epochs cannot be negative.");
        var target = new Option<double>("--target-flops") { Description = "Fraction of the MACs to keep.", DefaultValueFactory = _ => 0.5 }
            .Require(v => v > 0 && v <= 1, "--target-flops must be above 0 and at most 1.");
        var seed = new Option<int>("--seed") { Description = "Seed of every random choice.", DefaultValueFactory = _ => 0 };
        var resume = new Option<bool>("--resume") { Description = "Continue an interrupted demo run instead of starting afresh." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of tables." };

        var command = new Command("demo", "Prune the shipped Fashion-MNIST ResNet-20 to half its MACs, fine-tune, export and report (about 5–10 minutes on 2 cores).");
        foreach (var option in new Option[] { folder, data, epochs, target, seed, resume, json }) command.Options.Add(option);
        command.SetAction((parse, cancellation) => CommandRunner.RunAsync(parse, error, token =>
        {
            var directory = parse.GetValue(folder)!;
            var dataFolder = parse.GetValue(data)!;
            if (!Directory.Exists(dataFolder.FullName))
            {
                throw new DatasetException(dataFolder.FullName, "not found: the demo needs Fashion-MNIST (Debian package dataset-fashion-mnist; scripts/setup.sh installs it) or --data pointing to its IDX files.");
            }
            directory.Create();
            var model = new FileInfo(Path.Combine(directory.FullName, ModelName));
            WriteEmbeddedModel(model.FullName);
            var quiet = parse.GetValue(json) || parse.GetValue(AcpCommandLine.Quiet);
            if (!quiet) output.WriteLine($"Demo: pruning {ModelName} (ResNet-20, Fashion-MNIST) into {directory.FullName}");
            var outFile = new FileInfo(Path.Combine(directory.FullName, "fashion_resnet20.pruned.onnx"));
            var pruning = new PruningOptions
            {
                Strategy = PruningStrategy.Acp,
                TargetFlops = parse.GetValue(target),
                Epochs = parse.GetValue(epochs),
                Seed = parse.GetValue(seed),
                Resume = parse.GetValue(resume),
                Augmentation = new Augmentation(CropPadding: 2, HorizontalFlip: true),
                RunDirectory = outFile.FullName + ".run",
            };
            var job = new PruneCommand.Job(model, dataFolder, outFile, pruning)
            {
                Force = true,
                Report = new DirectoryInfo(Path.Combine(directory.FullName, "report")),
                Json = parse.GetValue(json),
                Quiet = parse.GetValue(AcpCommandLine.Quiet),
            };
            return PruneRun.RunAsync(job, output, token);
        }, cancellation));
        return command;
    }

    /// <summary>Writes the model shipped inside acp (the same bytes as models/fashion_resnet20.onnx in the repository).</summary>
    internal static void WriteEmbeddedModel(string path)
    {
        using var resource = typeof(DemoCommand).Assembly.GetManifestResourceStream(ModelName)
            ?? throw new InvalidOperationException($"The embedded {ModelName} is missing from acp; the build is broken.");
        var temporary = path + ".tmp";
        using (var file = File.Create(temporary)) resource.CopyTo(file);
        File.Move(temporary, path, overwrite: true);
    }
}
