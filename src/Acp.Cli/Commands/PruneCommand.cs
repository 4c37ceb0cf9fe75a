using System.CommandLine;
using Acp.Onnx;
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
    internal static readonly string[] Strategies = ["acp", "acp-paper", "l1", "random", "sfp", "asrfp", "ghfp", "aip"];

    /// <summary>
    /// What <c>acp prune</c> is asked to do: the pipeline's <see cref="PruningOptions"/> (the one options type the ML.NET
    /// estimator and the notebooks fill too), and what the command does around the run: the files, the proof, the output.
    /// </summary>
    internal sealed record Job(FileInfo Model, DirectoryInfo? Data, FileInfo Output, PruningOptions Pruning)
    {
        /// <summary>--mean as given (per channel, comma-separated); null = the model's metadata.</summary>
        public string? Mean { get; init; }

        /// <summary>--std as given; null = the model's metadata.</summary>
        public string? Std { get; init; }

        public bool Force { get; init; }

        public DirectoryInfo? Report { get; init; }

        public int LatencyBatch { get; init; } = 1;

        public int LatencyThreads { get; init; } = 1;

        public ComputeDevice Device { get; init; }

        public bool Json { get; init; }

        public bool Quiet { get; init; }

        public bool SkipTest { get; init; }

        public bool CompareBaselines { get; init; }
    }

    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = new Argument<FileInfo>("model") { Description = "The trained ONNX model to prune." };
        var data = new Option<DirectoryInfo?>("--data") { Description = DataOptions.DataDescription + " Its test split is read only for the final report." };
        var mean = DataOptions.Mean();
        var std = DataOptions.Std();
        var targetFlops = Fraction("--target-flops", "Keep at most this fraction of the original MACs (0.5 = a 50% cut).");
        var targetParams = Fraction("--target-params", "Keep at most this fraction of the original parameters.");
        var ratio = new Option<double?>("--ratio") { Description = "Structure only (no --data): remove this fraction of every prunable group." }
            .RequireWhenGiven(v => v >= 0 && v < 1, "--ratio must be at least 0 and below 1.");
        var strategy = new Option<string?>("--strategy") { Description = "acp (default with --data), acp-paper, l1 (default without), random, sfp, asrfp, ghfp or aip." };
        strategy.AcceptOnlyFromAmong(Strategies);
        var epochs = Positive("--epochs", "Fine-tuning epochs (default 3).", allowZero: true);
        var seed = new Option<int>("--seed") { Description = "Seed of every random choice; the same seed gives the same model bytes.", DefaultValueFactory = _ => 0 };
        var roundTo = new Option<int>("--round-to") { Description = "Round kept widths to a multiple of N (1 = no rounding).", DefaultValueFactory = _ => ChannelRounding.DefaultMultiple }
            .Require(v => v >= 1, "--round-to must be at least 1.");
        var resume = new Option<bool>("--resume") { Description = "Continue the run found in the run folder after a crash or Ctrl+C." };
        var runDirectory = new Option<DirectoryInfo?>("--run-dir") { Description = "Run folder for the evaluation log and checkpoints (default: OUT.onnx.run)." };
        var outPath = new Option<FileInfo>("--out") { Description = "Where to write the pruned model.", Required = true };
        var force = new Option<bool>("--force") { Description = "Overwrite --out if it exists." };
        var report = new Option<DirectoryInfo?>("--report") { Description = "Write an HTML report with charts into this folder." };
        var batch = new Option<int>("--latency-batch") { Description = "Batch size of the latency measurement.", DefaultValueFactory = _ => 1 }
            .Require(v => v >= 1, "--latency-batch must be at least 1.");
        var threads = new Option<int>("--latency-threads") { Description = "ONNX Runtime intra-op threads of the latency measurement (0: the runtime chooses).", DefaultValueFactory = _ => 1 }
            .Require(v => v >= 0, "--latency-threads must be at least 0.");
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of tables." };
        var device = DeviceOption.Create("the search and fine-tuning (--backend engine: cpu only) and the ONNX Runtime latency measurement");
        var backend = BackendOption.Create();
        var validationImages = Positive("--validation-images", "Training images held out to score candidates (default: the last N when the model's acp.validation metadata names N, else 5000).");
        var validationTail = new Option<bool>("--validation-tail") { Description = "Hold out the last training images instead of a seeded stratified draw (automatic when the model's metadata says it never saw them)." };
        var particles = Positive("--particles", "Swarm size (default 10).");
        var cycles = Positive("--cycles", "Swarm cycles after the initial population (default 8).", allowZero: true);
        var fitnessSteps = Positive("--fitness-steps", "acp: steps of distilled fine-tuning (64 images each) every candidate gets before it is scored; 0 = re-fit BatchNormalization only (default 0; 25 or more ranked deep cuts better, at 2-3x the cost per candidate).", allowZero: true);
        var finalists = Positive("--finalists", "acp: the swarm's best N structures and the uniform one are trained a few steps and scored again; the best is kept (default 4; 0 = keep the swarm's best).", allowZero: true);
        var finalistSteps = Positive("--finalist-steps", "acp: distilled steps (64 images each) of every finalist (default 50).");
        var capacityFloor = new Option<double?>("--capacity-floor") { Description = "acp with a MAC budget: the swarm scores only structures with at least this fraction of the uniform structure's parameters (default 0.75; 0 = no floor)." }
            .RequireWhenGiven(v => v >= 0 && v <= 1, "--capacity-floor must be at least 0 and at most 1.");
        var batchSize = Positive("--batch-size", "Images per fine-tuning step, and per BatchNormalization re-fit batch (default 128; at 224 px 16-32 keeps a training step's activations to a few GB).");
        var tuningBatchSize = Positive("--tuning-batch-size", "acp: images per distilled step of --fitness-steps and the finalists (default 64).");
        var calibrationImages = Positive("--calibration-images", "acp: training images whose feature maps are clustered (default 200).");
        var recalibrationImages = Positive("--recalibration-images", "Training images every candidate re-fits its BatchNormalization statistics on (default 512).");
        var fitnessImages = Positive("--fitness-images", "Validation images every swarm candidate is scored on (default 2000; at most the validation split).");
        var learningRate = new Option<float?>("--lr") { Description = "Peak learning rate of fine-tuning (default 0.02)." }
            .RequireWhenGiven(v => float.IsFinite(v) && v > 0, "--lr must be a finite number above 0.");
        var cropPadding = new Option<int>("--crop-padding") { Description = "Fine-tuning augmentation: random crops after padding by N pixels.", DefaultValueFactory = _ => 0 }
            .Require(v => v >= 0, "--crop-padding must be at least 0.");
        var flip = new Option<bool>("--flip") { Description = "Fine-tuning augmentation: random horizontal flips." };
        var skipTest = new Option<bool>("--no-test") { Description = "Do not measure test-split accuracy at the end." };
        var distillationWeight = new Option<float?>("--distillation-weight") { Description = "Share of logit distillation from the original in fine-tuning's loss (and aip's), 0 = plain cross-entropy (default 0.7)." }
            .RequireWhenGiven(v => v >= 0 && v <= 1, "--distillation-weight must be at least 0 and at most 1.");
        var aipStep = Fraction("--aip-step", "aip: fraction of every group's channels removed per pruning step (default 0.1).");
        var aipRecovery = Positive("--aip-recovery-steps", "aip: optimizer steps (batches) of knowledge-transfer training after each pruning step (default 200).", allowZero: true);
        var aipImportance = new Option<string?>("--aip-importance") { Description = "aip: channels a step removes are the least important by l1 (filter norms, default) or bn-scale (|BatchNormalization scale|)." };
        aipImportance.AcceptOnlyFromAmong("l1", "bn-scale");
        var aipAttention = new Option<float?>("--aip-attention") { Description = "aip: weight of attention transfer on the stage outputs (default 1; 0 = off)." }
            .RequireWhenGiven(v => float.IsFinite(v) && v >= 0, "--aip-attention must be a finite number of at least 0.");
        var aipAdversarial = new Option<float?>("--aip-adversarial") { Description = "aip: weight of the discriminator's adversarial term (default 0.1; 0 = no discriminator)." }
            .RequireWhenGiven(v => float.IsFinite(v) && v >= 0, "--aip-adversarial must be a finite number of at least 0.");
        var aipDiscriminator = Positive("--aip-discriminator-width", "aip: hidden units of the discriminator (default 64).");
        var compare = new Option<bool>("--compare-baselines") { Description = "Also run l1 and random at the same budget and fine-tuning, and show them in the report." };

        var command = new Command("prune", "Remove channels from a trained model within a MAC/parameter budget, fine-tune it and write a physically smaller ONNX file.");
        command.Arguments.Add(model);
        foreach (var option in new Option[] { data, mean, std, targetFlops, targetParams, ratio, strategy, epochs, seed, roundTo, resume, runDirectory, outPath, force, report, batch, threads, json, validationImages, validationTail, particles, cycles, fitnessSteps, finalists, finalistSteps, capacityFloor, batchSize, tuningBatchSize, calibrationImages, recalibrationImages, fitnessImages, learningRate, cropPadding, flip, skipTest, compare, device, backend, distillationWeight, aipStep, aipRecovery, aipImportance, aipAttention, aipAdversarial, aipDiscriminator })
        {
            command.Options.Add(option);
        }
        command.SetAction((parse, cancellation) => CommandRunner.RunAsync(parse, error, token =>
        {
            var dataFolder = parse.GetValue(data);
            var outFile = parse.GetValue(outPath)!;
            var defaults = new PruningOptions();
            var pruning = defaults with
            {
                Strategy = ParseStrategy(parse.GetValue(strategy) ?? (dataFolder is null ? "l1" : "acp")),
                TargetFlops = parse.GetValue(targetFlops),
                TargetParams = parse.GetValue(targetParams),
                Ratio = parse.GetValue(ratio),
                RoundTo = parse.GetValue(roundTo),
                Seed = parse.GetValue(seed),
                ValidationImages = parse.GetValue(validationImages),
                ValidationFromTail = parse.GetValue(validationTail),
                Swarm = defaults.Swarm with
                {
                    Particles = parse.GetValue(particles) ?? defaults.Swarm.Particles,
                    Cycles = parse.GetValue(cycles) ?? defaults.Swarm.Cycles,
                },
                FitnessSteps = parse.GetValue(fitnessSteps) ?? defaults.FitnessSteps,
                Finalists = parse.GetValue(finalists) ?? defaults.Finalists,
                FinalistSteps = parse.GetValue(finalistSteps) ?? defaults.FinalistSteps,
                CapacityFloor = parse.GetValue(capacityFloor) ?? defaults.CapacityFloor,
                Epochs = parse.GetValue(epochs) ?? defaults.Epochs,
                BatchSize = parse.GetValue(batchSize) ?? defaults.BatchSize,
                FitnessTuningBatchSize = parse.GetValue(tuningBatchSize) ?? defaults.FitnessTuningBatchSize,
                CalibrationImages = parse.GetValue(calibrationImages) ?? defaults.CalibrationImages,
                RecalibrationImages = parse.GetValue(recalibrationImages) ?? defaults.RecalibrationImages,
                FitnessImages = parse.GetValue(fitnessImages) ?? defaults.FitnessImages,
                LearningRate = parse.GetValue(learningRate) ?? defaults.LearningRate,
                Augmentation = new Augmentation(parse.GetValue(cropPadding), parse.GetValue(flip)),
                DistillationWeight = parse.GetValue(distillationWeight) ?? defaults.DistillationWeight,
                Aip = defaults.Aip with
                {
                    StepFraction = parse.GetValue(aipStep) ?? defaults.Aip.StepFraction,
                    RecoverySteps = parse.GetValue(aipRecovery) ?? defaults.Aip.RecoverySteps,
                    Importance = parse.GetValue(aipImportance) is "bn-scale" ? AipImportance.BnScale : defaults.Aip.Importance,
                    AttentionWeight = parse.GetValue(aipAttention) ?? defaults.Aip.AttentionWeight,
                    AdversarialWeight = parse.GetValue(aipAdversarial) ?? defaults.Aip.AdversarialWeight,
                    DiscriminatorWidth = parse.GetValue(aipDiscriminator) ?? defaults.Aip.DiscriminatorWidth,
                },
                RunDirectory = dataFolder is null ? null : parse.GetValue(runDirectory)?.FullName ?? outFile.FullName + ".run",
                Resume = parse.GetValue(resume),
                Backend = BackendOption.Resolve(parse.GetValue(backend)!, parse.GetValue(device)),
            };
            var job = new Job(parse.GetValue(model)!, dataFolder, outFile, pruning)
            {
                Mean = parse.GetValue(mean),
                Std = parse.GetValue(std),
                Force = parse.GetValue(force),
                Report = parse.GetValue(report),
                LatencyBatch = parse.GetValue(batch),
                LatencyThreads = parse.GetValue(threads),
                Device = parse.GetValue(device),
                Json = parse.GetValue(json),
                Quiet = parse.GetValue(AcpCommandLine.Quiet),
                SkipTest = parse.GetValue(skipTest),
                CompareBaselines = parse.GetValue(compare),
            };
            Check(job, parse.GetValue(strategy));
            return job.Data is null
                ? StructureOnlyPrune.RunAsync(job, output)
                : PruneRun.RunAsync(job, output, token);
        }, cancellation));
        return command;
    }

    /// <summary>What only the command line can get wrong, in its own words (flag names); the library checks the rest.</summary>
    private static void Check(Job job, string? strategy)
    {
        var o = job.Pruning;
        PrunePaths.Check(job, job.Output.ToString());
        if (job.Output.Exists && !job.Force && !o.Resume) throw new ArgumentException($"{job.Output.FullName} exists; pass --force to overwrite it.");
        if (job.Data is null)
        {
            if (strategy is not (null or "l1" or "random"))
            {
                throw new ArgumentException($"--strategy {strategy} needs --data: it measures accuracy and fine-tunes. Without data only l1 and random are possible.");
            }
            if (o.Ratio is null && o.TargetFlops is null && o.TargetParams is null) throw new ArgumentException("Say how much to prune: --target-flops, --target-params or --ratio.");
            if (o.Ratio is not null && (o.TargetFlops is not null || o.TargetParams is not null)) throw new ArgumentException("--ratio and --target-flops/--target-params exclude each other.");
            if (o.Resume) throw new ArgumentException("--resume needs --data: a structure-only prune has nothing to resume.");
        }
        else
        {
            if (o.Ratio is not null) throw new ArgumentException("--ratio is for structure-only pruning without --data; with data give the budget: --target-flops and/or --target-params.");
            if (o.TargetFlops is null && o.TargetParams is null) throw new ArgumentException("Give the budget: --target-flops (e.g. 0.5) and/or --target-params.");
        }
    }

    private static Option<double?> Fraction(string name, string description)
    {
        return new Option<double?>(name) { Description = description }
            .RequireWhenGiven(v => v > 0 && v <= 1, $"{name} must be above 0 and at most 1.");
    }

    private static Option<int?> Positive(string name, string description, bool allowZero = false)
    {
        var least = allowZero ? 0 : 1;
        return new Option<int?>(name) { Description = description }.RequireWhenGiven(v => v >= least, $"{name} must be at least {least}.");
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
        "aip" => PruningStrategy.Aip,
        _ => throw new ArgumentException($"Unknown strategy '{name}'; expected one of {string.Join(", ", Strategies)}."),
    };
}
