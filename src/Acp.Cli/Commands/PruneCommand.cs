using System.CommandLine;
using Acp.Onnx.Channels;
using Acp.Pruning.Pipeline;

namespace Acp.Cli.Commands;

/// <summary>
/// <c>acp prune MODEL --data DIR --target-flops 0.5 --out OUT.onnx</c>: the whole pruning run (search, fine-tuning,
/// export, proof). Without <c>--data</c> only the structure-only strategies l1 and random are possible, without
/// retraining.
/// </summary>
internal static class PruneCommand
{
    internal static readonly string[] Strategies = ["acp", "acp-paper", "l1", "random", "sfp", "asrfp", "ghfp"];

    /// <summary>The parsed command line.</summary>
    internal sealed record Arguments(
        FileInfo Model, DirectoryInfo? Data, string? Mean, string? Std, double? TargetFlops, double? TargetParams, double? Ratio,
        string? Strategy, int? Epochs, int Seed, int RoundTo, bool Resume, DirectoryInfo? RunDirectory, FileInfo Output, bool Force,
        DirectoryInfo? Report, int LatencyBatch, int LatencyThreads, bool Json, bool Quiet, int? ValidationImages, bool ValidationTail,
        int? Particles, int? Cycles, float? LearningRate, int CropPadding, bool Flip, bool SkipTest, bool CompareBaselines,
        int? FitnessSteps = null, int? Finalists = null, int? FinalistSteps = null, double? CapacityFloor = null, string Device = "cpu", string Backend = "engine");

    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = new Argument<FileInfo>("model") { Description = "The trained ONNX model to prune." };
        var data = new Option<DirectoryInfo?>("--data") { Description = DataOptions.DataDescription + " Its test split is read only for the final report." };
        var mean = DataOptions.Mean();
        var std = DataOptions.Std();
        var targetFlops = Fraction("--target-flops", "Keep at most this fraction of the original MACs (0.5 = a 50% cut).");
        var targetParams = Fraction("--target-params", "Keep at most this fraction of the original parameters.");
        var ratio = new Option<double?>("--ratio") { Description = "Structure only (no --data): remove this fraction of every prunable group." };
        ratio.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<double?>() is { } v && !(v >= 0 && v < 1)) r.AddError("--ratio must be at least 0 and below 1.");
        });
        var strategy = new Option<string?>("--strategy") { Description = "acp (default with --data), acp-paper, l1 (default without), random, sfp, asrfp or ghfp." };
        strategy.AcceptOnlyFromAmong(Strategies);
        var epochs = Positive("--epochs", "Fine-tuning epochs (default 3).", allowZero: true);
        var seed = new Option<int>("--seed") { Description = "Seed of every random choice; the same seed gives the same model bytes.", DefaultValueFactory = _ => 0 };
        var roundTo = new Option<int>("--round-to") { Description = "Round kept widths to a multiple of N (1 = no rounding).", DefaultValueFactory = _ => ChannelRounding.DefaultMultiple };
        roundTo.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() < 1) r.AddError("--round-to must be at least 1.");
        });
        var resume = new Option<bool>("--resume") { Description = "Continue the run found in the run folder after a crash or Ctrl+C." };
        var runDirectory = new Option<DirectoryInfo?>("--run-dir") { Description = "Run folder for the evaluation log and checkpoints (default: OUT.onnx.run)." };
        var outPath = new Option<FileInfo>("--out") { Description = "Where to write the pruned model.", Required = true };
        var force = new Option<bool>("--force") { Description = "Overwrite --out if it exists." };
        var report = new Option<DirectoryInfo?>("--report") { Description = "Write an HTML report with charts into this folder." };
        var batch = new Option<int>("--latency-batch") { Description = "Batch size of the latency measurement.", DefaultValueFactory = _ => 1 };
        var threads = new Option<int>("--latency-threads") { Description = "ONNX Runtime intra-op threads of the latency measurement.", DefaultValueFactory = _ => 1 };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of tables." };
        var validationImages = Positive("--validation-images", "Training images held out to score candidates (default: the last N when the model's acp.validation metadata names N, else 5000).");
        var validationTail = new Option<bool>("--validation-tail") { Description = "Hold out the last training images instead of a seeded stratified draw (automatic when the model's metadata says it never saw them)." };
        var particles = Positive("--particles", "Swarm size (default 10).");
        var cycles = Positive("--cycles", "Swarm cycles after the initial population (default 8).", allowZero: true);
        var fitnessSteps = Positive("--fitness-steps", "acp: steps of distilled fine-tuning (64 images each) every candidate gets before it is scored; 0 = re-fit BatchNormalization only (default 0; 25 or more ranked deep cuts better, at 2-3x the cost per candidate).", allowZero: true);
        var finalists = Positive("--finalists", "acp: the swarm's best N structures and the uniform one are trained a few steps and scored again; the best is kept (default 4; 0 = keep the swarm's best).", allowZero: true);
        var finalistSteps = Positive("--finalist-steps", "acp: distilled steps (64 images each) of every finalist (default 50).");
        var capacityFloor = new Option<double?>("--capacity-floor") { Description = "acp with a MAC budget: the swarm scores only structures with at least this fraction of the uniform structure's parameters (default 0.75; 0 = no floor)." };
        capacityFloor.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<double?>() is { } v && !(v >= 0 && v <= 1)) r.AddError("--capacity-floor must be at least 0 and at most 1.");
        });
        var learningRate = new Option<float?>("--lr") { Description = "Peak learning rate of fine-tuning (default 0.02)." };
        var cropPadding = new Option<int>("--crop-padding") { Description = "Fine-tuning augmentation: random crops after padding by N pixels.", DefaultValueFactory = _ => 0 };
        var flip = new Option<bool>("--flip") { Description = "Fine-tuning augmentation: random horizontal flips." };
        var skipTest = new Option<bool>("--no-test") { Description = "Do not measure test-split accuracy at the end." };
        var device = DeviceOption.Create();
        var backend = BackendOption.Create();
        var compare = new Option<bool>("--compare-baselines") { Description = "Also run l1 and random at the same budget and fine-tuning, and show them in the report." };

        var command = new Command("prune", "Remove channels from a trained model within a MAC/parameter budget, fine-tune it and write a physically smaller ONNX file.");
        command.Arguments.Add(model);
        foreach (var option in new Option[] { data, mean, std, targetFlops, targetParams, ratio, strategy, epochs, seed, roundTo, resume, runDirectory, outPath, force, report, batch, threads, json, validationImages, validationTail, particles, cycles, fitnessSteps, finalists, finalistSteps, capacityFloor, learningRate, cropPadding, flip, skipTest, compare, device, backend })
        {
            command.Options.Add(option);
        }
        command.SetAction((parse, cancellation) => CommandRunner.RunAsync(parse, error, token =>
        {
            var arguments = new Arguments(parse.GetValue(model)!, parse.GetValue(data), parse.GetValue(mean), parse.GetValue(std),
                parse.GetValue(targetFlops), parse.GetValue(targetParams), parse.GetValue(ratio), parse.GetValue(strategy), parse.GetValue(epochs),
                parse.GetValue(seed), parse.GetValue(roundTo), parse.GetValue(resume), parse.GetValue(runDirectory), parse.GetValue(outPath)!,
                parse.GetValue(force), parse.GetValue(report), parse.GetValue(batch), parse.GetValue(threads), parse.GetValue(json),
                parse.GetValue(AcpCommandLine.Quiet), parse.GetValue(validationImages), parse.GetValue(validationTail), parse.GetValue(particles),
                parse.GetValue(cycles), parse.GetValue(learningRate), parse.GetValue(cropPadding), parse.GetValue(flip), parse.GetValue(skipTest),
                parse.GetValue(compare), parse.GetValue(fitnessSteps), parse.GetValue(finalists), parse.GetValue(finalistSteps), parse.GetValue(capacityFloor), parse.GetValue(device)!, parse.GetValue(backend)!);
            Check(arguments);
            BackendOption.Resolve(arguments.Backend, arguments.Device); // fails at once on a device this process cannot use
            return arguments.Data is null
                ? StructureOnlyPrune.RunAsync(arguments, output)
                : PruneRun.RunAsync(arguments, output, token);
        }, cancellation));
        return command;
    }

    private static void Check(Arguments a)
    {
        if (string.Equals(a.Model.FullName, a.Output.FullName, StringComparison.Ordinal))
        {
            throw new ArgumentException("--out names the input model; write the pruned model to another file.");
        }
        if (a.Output.Exists && !a.Force && !a.Resume) throw new ArgumentException($"{a.Output.FullName} exists; pass --force to overwrite it.");
        if (a.Data is null)
        {
            if (a.Strategy is not (null or "l1" or "random"))
            {
                throw new ArgumentException($"--strategy {a.Strategy} needs --data: it measures accuracy and fine-tunes. Without data only l1 and random are possible.");
            }
            if (a.Ratio is null && a.TargetFlops is null && a.TargetParams is null) throw new ArgumentException("Say how much to prune: --target-flops, --target-params or --ratio.");
            if (a.Ratio is not null && (a.TargetFlops is not null || a.TargetParams is not null)) throw new ArgumentException("--ratio and --target-flops/--target-params exclude each other.");
            if (a.Resume) throw new ArgumentException("--resume needs --data: a structure-only prune has nothing to resume.");
        }
        else
        {
            if (a.Ratio is not null) throw new ArgumentException("--ratio is for structure-only pruning without --data; with data give the budget: --target-flops and/or --target-params.");
            if (a.TargetFlops is null && a.TargetParams is null) throw new ArgumentException("Give the budget: --target-flops (e.g. 0.5) and/or --target-params.");
        }
    }

    private static Option<double?> Fraction(string name, string description)
    {
        var option = new Option<double?>(name) { Description = description };
        option.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<double?>() is { } v && !(v > 0 && v <= 1)) r.AddError($"{name} must be above 0 and at most 1.");
        });
        return option;
    }

    private static Option<int?> Positive(string name, string description, bool allowZero = false)
    {
        var option = new Option<int?>(name) { Description = description };
        option.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int?>() is { } v && v < (allowZero ? 0 : 1)) r.AddError($"{name} must be at least {(allowZero ? 0 : 1)}.");
        });
        return option;
    }

    internal static PruningStrategy ParseStrategy(string name) => name switch
    {
        "acp" => PruningStrategy.Acp,
        "acp-paper" => PruningStrategy.AcpPaper,
        "l1" => PruningStrategy.L1,
        "random" => PruningStrategy.Random,
        "sfp" => PruningStrategy.Sfp,
        "asrfp" => PruningStrategy.Asrfp,
        "ghfp" => PruningStrategy.Ghfp,
        _ => throw new ArgumentException($"Unknown strategy '{name}'; expected one of {string.Join(", ", Strategies)}."),
    };
}
