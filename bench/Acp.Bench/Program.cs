// Engine benchmark against peers measured in the same run: PyTorch 1.13 CPU (bench/pytorch_peer.py) and ONNX Runtime,
// on the same network: by default the ResNet-20-style fixture (16/32/64 channels, 1x28x28, batch 128); --model takes
// any one-input image classifier, whose image shape and classes are read from the model (BenchModel), e.g. the 224-px
// torchvision exports in ~/.cache/acp/imagenet (the peer then builds torchvision's network with BatchNormalization
// folded, as in the export). Ratios, not absolute times, are the
// result: absolute figures drift with the machine's load, so the sides take turns in rounds (see below) and every
// ratio is the median of the rounds' ratios. Usage:
//   dotnet run -c Release --project bench/Acp.Bench -- [--model PATH] [--batch 128] [--rounds 7] [--steps 5 (per block)]
//                                                     [--threads 2] [--json] [--profile] [--peer-model NAME]
//                                                     [--train-batch N (default --batch)] [--no-rebuild]
//                                                     [--torchsharp (LibTorch through Acp.TorchSharp joins the rounds)]
//   (--profile-only: stop after the per-operator profile, without the peers)
//   dotnet run -c Release --project bench/Acp.Bench -- --kernels [--repeats 9] [--shapes resnet18-224]   (convolution kernels alone, see KernelBench)
//   dotnet run -c Release --project bench/Acp.Bench -- --ort-profile MODEL.onnx [MORE.onnx] [--per-node]   (ONNX Runtime per node, see OrtNodeProfile)
//   dotnet run -c Release --project bench/Acp.Bench -- --ort-pair ORIGINAL.onnx PRUNED.onnx   (alternating ONNX Runtime latency, see OrtPair)
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Acp.Engine.Execution;
using Acp.Engine.Kernels;
using Acp.Engine.Tensors;
using Acp.Engine.Training;
using Acp.Onnx.Ir;
using Acp.Onnx.Runtime;
using Microsoft.ML.OnnxRuntime;

var options = BenchOptions.Parse(args);
if (args.Contains("--kernels"))
{
    var repeats = Array.IndexOf(args, "--repeats") is var r && r >= 0 && r + 1 < args.Length ? int.Parse(args[r + 1], CultureInfo.InvariantCulture) : 9;
    var only = Array.IndexOf(args, "--only") is var o && o >= 0 && o + 1 < args.Length ? args[o + 1] : null;
    var shapeSet = Array.IndexOf(args, "--shapes") is var h && h >= 0 && h + 1 < args.Length ? args[h + 1] : "resnet20";
    return KernelBench.Run(options.Batch, repeats, only, shapeSet, args.Contains("--forward-only"));
}
if (args.Contains("--ort-profile")) return OrtNodeProfile.Run(args, options);
if (args.Contains("--ort-pair")) return OrtPair.Run(args, options);
var workload = BenchModel.Load(options.ModelPath, options.PeerModel);
var model = workload.Model;
var classes = workload.Classes;
Console.Error.WriteLine($"bench: {workload}, train batch {options.TrainBatch}, inference batch {options.Batch}, {options.Threads} thread(s)");
var random = new Random(1);
var input = workload.RandomInput(options.Batch, random);
var trainInput = options.TrainBatch == options.Batch ? input : workload.RandomInput(options.TrainBatch, random);
var labels = Enumerable.Range(0, options.TrainBatch).Select(i => i % classes).ToArray();

// Our engine: train step = forward (training mode) + cross-entropy + backward + SGD step.
var network = Network.Build(model);
var sgd = new SgdOptimizer(network.Parameters, new SgdOptions { Momentum = 0.9f, WeightDecay = 5e-4f });
var gradient = new float[options.TrainBatch * classes];
if (options.Profile)
{
    network.Training = true;
    network.Forward(trainInput);
    network.Backward(gradient);
    network.Profile = new LayerProfile();
    for (var i = 0; i < 5; i++) { network.Forward(trainInput); network.Backward(gradient); }
    Console.Error.WriteLine($"Per-operator time over 5 training steps:{Environment.NewLine}{network.Profile}");
    network.Profile = new LayerProfile();
    network.Training = false;
    for (var i = 0; i < 5; i++) network.Forward(input);
    Console.Error.WriteLine($"Per-operator time over 5 inference passes:{Environment.NewLine}{network.Profile}");
    network.Profile = null;
    if (args.Contains("--profile-only")) return 0;
}

void OurTrainStep()
{
    network.Training = true;
    var logits = network.Forward(trainInput);
    Losses.SoftmaxCrossEntropy(options.TrainBatch, classes, logits.Data, labels, 0f, gradient);
    network.Backward(gradient);
    sgd.Step(0.1f);
}
void OurInference()
{
    network.Training = false;
    network.Forward(input);
}
// One side's block of a round: its first step pays for the switch and is dropped.
double BlockMedian(Action step) => Median(Block(options.Steps + 1, step).Skip(1));

Block(options.Warmup, OurTrainStep);
Block(options.Warmup, OurInference);
// Our peak before ONNX Runtime shares the process; the rounds reuse the same buffers.
var peakMb = Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024.0);

// ONNX Runtime on the same model, same threads; PyTorch in its own process, driven step by step.
using var session = new OrtSessionSettings { IntraOpThreads = options.Threads }.CreateSession(model.ToBytes());
using var ortInput = OrtValue.CreateTensorValueFromMemory(input.Data, workload.InputShape(options.Batch));
using var ortRunOptions = new RunOptions();
void OrtInference()
{
    using var outputs = session.Run(ortRunOptions, [network.InputName], [ortInput], session.OutputNames);
}
using var peer = TorchPeer.TryStart(options, workload);
Block(options.Warmup, OrtInference);
// TorchSharp (opt-in): LibTorch in this process, through the backend seam the pipeline uses, same batches and threads.
using var torchSharp = options.TorchSharp ? new TorchSharpSide(workload, trainInput, labels, input, options.Threads) : null;
if (torchSharp is not null)
{
    Console.Error.WriteLine($"bench: TorchSharp on {torchSharp.Threads} thread(s); LibTorch loader: {torchSharp.LoaderOutcome}");
    Block(options.Warmup, torchSharp.TrainStep);
    Block(options.Warmup, torchSharp.Inference);
}

// Interleaved rounds: every side runs a block of steps in turn, so all sides see the same minutes of the host (whose
// speed drifts), and each round gives its own ratios. The first step of every block is dropped: it pays for the
// switch (caches, and the previous side's threads still spinning).
var rounds = new List<Round>();
for (var round = 0; round < options.Rounds; round++)
{
    double ourTrain = 0, ourInfer = 0, ortInfer = 0;
    double? torchTrain = null, torchInfer = null, torchSharpTrain = null, torchSharpInfer = null;
    Action[] train =
    [
        () => ourTrain = BlockMedian(OurTrainStep),
        () => torchTrain = peer?.Median("train", options.Steps + 1),
        .. torchSharp is null ? Array.Empty<Action>() : [() => torchSharpTrain = BlockMedian(torchSharp.TrainStep)],
    ];
    Action[] inference =
    [
        () => ourInfer = BlockMedian(OurInference),
        () => ortInfer = BlockMedian(OrtInference),
        () => torchInfer = peer?.Median("infer", options.Steps + 1),
        .. torchSharp is null ? Array.Empty<Action>() : [() => torchSharpInfer = BlockMedian(torchSharp.Inference)],
    ];
    // Odd rounds run the sides in reverse order, so no side always follows the same neighbour.
    foreach (var side in round % 2 == 0 ? train : train.Reverse()) side();
    foreach (var side in round % 2 == 0 ? inference : inference.Reverse()) side();
    rounds.Add(new Round(ourTrain, ourInfer, ortInfer, torchTrain, torchInfer) { TorchSharpTrainMs = torchSharpTrain, TorchSharpInferMs = torchSharpInfer });
    Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"round {round + 1}/{options.Rounds}: train {ourTrain:0.0} ms (torch {torchTrain:0.0}), inference {ourInfer:0.0} ms (ORT {ortInfer:0.0}, torch {torchInfer:0.0})")
        + (torchSharp is null ? "" : string.Create(CultureInfo.InvariantCulture, $"; TorchSharp train {torchSharpTrain:0.0} ms, inference {torchSharpInfer:0.0} ms")));
}
var torchStats = peer?.Stats();

// Building a network from a modified graph and recalibrating BN on 256 images: the per-candidate cost of the search
// (at 28x28; skipped with --no-rebuild, e.g. at 224 px, where 256 images are a minute of work).
double? rebuildMs = null;
if (!options.NoRebuild)
{
    var recalibrationBatch = workload.RandomInput(128, random);
    rebuildMs = Median(Block(6, () =>
    {
        var candidate = Network.Build(model.Clone());
        candidate.RecalibrateBatchNorm([recalibrationBatch, recalibrationBatch]);
    }));
}

var trainMs = Median(rounds.Select(r => r.OurTrainMs));
var inferMs = Median(rounds.Select(r => r.OurInferMs));
var ortMs = Median(rounds.Select(r => r.OrtInferMs));
var report = new Dictionary<string, object?>
{
    ["model"] = Path.GetFileName(options.ModelPath),
    ["input_shape"] = new[] { workload.Channels, workload.Height, workload.Width },
    ["classes"] = classes,
    ["peer_model"] = workload.PeerModel,
    ["batch"] = options.Batch,
    ["train_batch"] = options.TrainBatch,
    ["threads"] = options.Threads,
    ["rounds"] = options.Rounds,
    ["steps_per_block"] = options.Steps,
    ["gemm"] = Gemm.ActiveProvider.ToString(),
    ["acp_train_step_ms"] = trainMs,
    ["acp_train_images_per_s"] = options.TrainBatch * 1000 / trainMs,
    ["acp_inference_images_per_s"] = options.Batch * 1000 / inferMs,
    ["acp_peak_working_set_mb"] = peakMb,
    ["acp_rebuild_and_recalibrate_ms"] = rebuildMs,
    ["ort_inference_images_per_s"] = options.Batch * 1000 / ortMs,
};
if (peer is not null && rounds.All(r => r.TorchTrainMs is not null && r.TorchInferMs is not null))
{
    var torchTrainMs = Median(rounds.Select(r => r.TorchTrainMs!.Value));
    var torchInferMs = Median(rounds.Select(r => r.TorchInferMs!.Value));
    report["torch_train_step_ms"] = torchTrainMs;
    report["torch_inference_images_per_s"] = options.Batch * 1000 / torchInferMs;
    report["torch_peak_rss_mb"] = torchStats?.GetProperty("peak_rss_mb").GetDouble();
    AddRatio("train_speedup_vs_torch", rounds.Select(r => r.TorchTrainMs!.Value / r.OurTrainMs));
    AddRatio("inference_speedup_vs_torch", rounds.Select(r => r.TorchInferMs!.Value / r.OurInferMs));
}
AddRatio("inference_ratio_vs_ort", rounds.Select(r => r.OrtInferMs / r.OurInferMs));
if (torchSharp is not null)
{
    // Engine against TorchSharp (> 1: the engine is faster), then TorchSharp against PyTorch and ONNX Runtime (> 1:
    // TorchSharp is faster), each the median of the per-round ratios.
    var torchSharpTrainMs = Median(rounds.Select(r => r.TorchSharpTrainMs!.Value));
    var torchSharpInferMs = Median(rounds.Select(r => r.TorchSharpInferMs!.Value));
    report["torchsharp_threads"] = torchSharp.Threads;
    report["torchsharp_train_step_ms"] = torchSharpTrainMs;
    report["torchsharp_train_images_per_s"] = options.TrainBatch * 1000 / torchSharpTrainMs;
    report["torchsharp_inference_images_per_s"] = options.Batch * 1000 / torchSharpInferMs;
    AddRatio("train_speedup_vs_torchsharp", rounds.Select(r => r.TorchSharpTrainMs!.Value / r.OurTrainMs));
    AddRatio("inference_speedup_vs_torchsharp", rounds.Select(r => r.TorchSharpInferMs!.Value / r.OurInferMs));
    if (rounds.All(r => r.TorchTrainMs is not null && r.TorchInferMs is not null))
    {
        AddRatio("torchsharp_train_speedup_vs_torch", rounds.Select(r => r.TorchTrainMs!.Value / r.TorchSharpTrainMs!.Value));
        AddRatio("torchsharp_inference_speedup_vs_torch", rounds.Select(r => r.TorchInferMs!.Value / r.TorchSharpInferMs!.Value));
    }
    AddRatio("torchsharp_inference_ratio_vs_ort", rounds.Select(r => r.OrtInferMs / r.TorchSharpInferMs!.Value));
}
report["per_round_ms"] = rounds;

// A ratio is the median over rounds of the per-round ratio; its range shows how far the host moved it.
void AddRatio(string key, IEnumerable<double> perRound)
{
    var values = perRound.ToArray();
    report[key] = Median(values);
    report[key + "_min"] = values.Min();
    report[key + "_max"] = values.Max();
}

if (options.Json)
{
    Console.WriteLine(JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
}
else
{
    foreach (var (key, value) in report)
    {
        if (value is List<Round>) continue; // per-round times are in the JSON and on stderr
        Console.WriteLine($"{key,-34} {(value is double d ? d.ToString("0.###", CultureInfo.InvariantCulture) : value)}");
    }
}
return 0;

static double[] Block(int steps, Action step)
{
    var times = new double[steps];
    for (var i = 0; i < times.Length; i++)
    {
        var clock = Stopwatch.StartNew();
        step();
        times[i] = clock.Elapsed.TotalMilliseconds;
    }
    return times;
}

static double Median(IEnumerable<double> values)
{
    var sorted = values.OrderBy(v => v).ToArray();
    var mid = sorted.Length / 2;
    return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/// <summary>One interleaved round: each side's median step time over its block (ms).</summary>
internal sealed record Round(double OurTrainMs, double OurInferMs, double OrtInferMs, double? TorchTrainMs, double? TorchInferMs)
{
    /// <summary>TorchSharp's train step (--torchsharp only; left out of the JSON otherwise).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? TorchSharpTrainMs { get; init; }

    /// <summary>TorchSharp's inference pass (--torchsharp only).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? TorchSharpInferMs { get; init; }
}

/// <summary>bench/pytorch_peer.py --serve: PyTorch in its own process, running blocks of steps on command.</summary>
internal sealed class TorchPeer : IDisposable
{
    private readonly Process _process;

    private TorchPeer(Process process) => _process = process;

    public static TorchPeer? TryStart(BenchOptions options, BenchModel workload)
    {
        var script = Path.Combine(BenchOptions.RepoRoot(), "bench", "pytorch_peer.py");
        var start = new ProcessStartInfo("/usr/bin/python3", [script, "--serve", "--threads", options.Threads.ToString(CultureInfo.InvariantCulture),
            "--batch", options.Batch.ToString(CultureInfo.InvariantCulture), "--train-batch", options.TrainBatch.ToString(CultureInfo.InvariantCulture),
            .. workload.PeerArguments()])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            // PyTorch's banner and warnings go to our stderr, not into a pipe nobody drains.
            RedirectStandardError = false,
        };
        try
        {
            var peer = new TorchPeer(Process.Start(start)!);
            // Warm-up doubles as the check that torch imports and the model builds.
            peer.Median("train", Math.Max(1, options.Warmup));
            peer.Median("infer", Math.Max(1, options.Warmup));
            return peer;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
        {
            Console.Error.WriteLine($"bench: the PyTorch peer is skipped ({e.Message}); run scripts/setup.sh for /usr/bin/python3 with torch.");
            return null;
        }
    }

    /// <summary>Runs <paramref name="steps"/> steps of "train" or "infer" and returns the median of all but the first.</summary>
    public double Median(string command, int steps)
    {
        var times = Ask($"{command} {steps.ToString(CultureInfo.InvariantCulture)}").GetProperty("times_ms").EnumerateArray().Select(t => t.GetDouble()).ToArray();
        var kept = times.Length > 1 ? times.Skip(1) : times;
        var sorted = kept.OrderBy(t => t).ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    public JsonElement Stats() => Ask("stats");

    private JsonElement Ask(string command)
    {
        _process.StandardInput.WriteLine(command);
        _process.StandardInput.Flush();
        var line = _process.StandardOutput.ReadLine() ?? throw new InvalidOperationException($"the peer exited (code {(_process.HasExited ? _process.ExitCode : -1)})");
        var reply = JsonDocument.Parse(line).RootElement.Clone();
        if (reply.TryGetProperty("error", out var error)) throw new InvalidOperationException($"the peer refused '{command}': {error}");
        return reply;
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.StandardInput.WriteLine("quit");
                _process.StandardInput.Close();
                if (!_process.WaitForExit(10_000)) _process.Kill();
            }
        }
        catch (IOException)
        {
            // The peer is gone already.
        }
        _process.Dispose();
    }
}

internal sealed record BenchOptions(string ModelPath, int Batch, int TrainBatch, int Rounds, int Steps, int Warmup, int Threads, bool Json, bool Profile,
    string? PeerModel, bool NoRebuild, bool TorchSharp)
{
    public static BenchOptions Parse(string[] args)
    {
        string Value(string name, string fallback)
        {
            var i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        }
        var cache = Environment.GetEnvironmentVariable("ACP_CACHE_DIR") ?? Path.Combine(Environment.GetEnvironmentVariable("HOME") ?? "/root", ".cache", "acp");
        return new BenchOptions(
            Value("--model", Path.Combine(cache, "engine-fixtures", "resnet20.onnx")),
            int.Parse(Value("--batch", "128"), CultureInfo.InvariantCulture),
            int.Parse(Value("--train-batch", Value("--batch", "128")), CultureInfo.InvariantCulture),
            int.Parse(Value("--rounds", "7"), CultureInfo.InvariantCulture),
            int.Parse(Value("--steps", "5"), CultureInfo.InvariantCulture),
            int.Parse(Value("--warmup", "3"), CultureInfo.InvariantCulture),
            int.Parse(Value("--threads", "2"), CultureInfo.InvariantCulture),
            args.Contains("--json"),
            args.Contains("--profile") || args.Contains("--profile-only"),
            Array.IndexOf(args, "--peer-model") is var p && p >= 0 && p + 1 < args.Length ? args[p + 1] : null,
            args.Contains("--no-rebuild"),
            args.Contains("--torchsharp")) is var parsed && parsed.Rounds >= 1 && parsed.Steps >= 1 && parsed.Warmup >= 0 && parsed.Batch >= 1 && parsed.TrainBatch >= 1
            ? parsed
            : throw new ArgumentException("--rounds, --steps, --batch and --train-batch must be at least 1, --warmup at least 0.");
    }

    public static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Acp.sln"))) dir = dir.Parent;
        return dir?.FullName ?? Directory.GetCurrentDirectory();
    }
}
