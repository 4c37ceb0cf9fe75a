// Engine benchmark against peers measured in the same run: PyTorch 1.13 CPU (bench/pytorch_peer.py) and ONNX Runtime,
// on the same ResNet-20-style network (16/32/64 channels, 1x28x28, batch 128). Ratios, not absolute times, are the
// result: absolute figures drift with the machine's load. Usage:
//   dotnet run -c Release --project bench/Acp.Bench -- [--model PATH] [--batch 128] [--steps 20] [--threads 2] [--json] [--profile]
//   (--profile-only: stop after the per-operator profile, without the peers)
//   dotnet run -c Release --project bench/Acp.Bench -- --kernels [--repeats 9]   (convolution kernels alone, see KernelBench)
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Acp.Engine.Execution;
using Acp.Engine.Kernels;
using Acp.Engine.Tensors;
using Acp.Engine.Training;
using Acp.Onnx.Ir;
using Acp.Onnx.Runtime;

var options = BenchOptions.Parse(args);
if (args.Contains("--kernels"))
{
    var repeats = Array.IndexOf(args, "--repeats") is var r && r >= 0 && r + 1 < args.Length ? int.Parse(args[r + 1], CultureInfo.InvariantCulture) : 9;
    var only = Array.IndexOf(args, "--only") is var o && o >= 0 && o + 1 < args.Length ? args[o + 1] : null;
    return KernelBench.Run(options.Batch, repeats, only);
}
var model = OnnxModel.Load(options.ModelPath);
var random = new Random(1);
var input = new Tensor(options.Batch, 1, 28, 28);
for (var i = 0; i < input.Length; i++) input.Data[i] = (float)(random.NextDouble() * 2 - 1);
var labels = Enumerable.Range(0, options.Batch).Select(i => i % 10).ToArray();

// Our engine: train step = forward (training mode) + cross-entropy + backward + SGD step.
var network = Network.Build(model);
var sgd = new SgdOptimizer(network.Parameters, new SgdOptions { Momentum = 0.9f, WeightDecay = 5e-4f });
var gradient = new float[options.Batch * 10];
var trainMs = Measure(options, () =>
{
    network.Training = true;
    var logits = network.Forward(input);
    Losses.SoftmaxCrossEntropy(options.Batch, 10, logits.Data, labels, 0f, gradient);
    network.Backward(gradient);
    sgd.Step(0.1f);
});
if (options.Profile)
{
    network.Profile = new LayerProfile();
    for (var i = 0; i < 5; i++) { network.Forward(input); network.Backward(gradient); }
    Console.Error.WriteLine($"Per-operator time over 5 training steps:{Environment.NewLine}{network.Profile}");
    network.Profile = new LayerProfile();
    network.Training = false;
    for (var i = 0; i < 5; i++) network.Forward(input);
    Console.Error.WriteLine($"Per-operator time over 5 inference passes:{Environment.NewLine}{network.Profile}");
    network.Profile = null;
    if (args.Contains("--profile-only"))
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"acp_train_step_ms {trainMs:0.0}"));
        return 0;
    }
}
network.Training = false;
var inferMs = Measure(options, () => network.Forward(input));
var peakMb = Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024.0);

// Building a network from a modified graph and recalibrating BN on 256 images: the per-candidate cost of the search.
var recalibrationBatch = new Tensor(128, 1, 28, 28);
input.Data.AsSpan(0, recalibrationBatch.Length).CopyTo(recalibrationBatch.Data);
var rebuildMs = Measure(options with { Steps = 5 }, () =>
{
    var candidate = Network.Build(model.Clone());
    candidate.RecalibrateBatchNorm([recalibrationBatch, recalibrationBatch]);
});

// ONNX Runtime on the same model, same threads.
using var session = InferenceSession.FromBytes(model.ToBytes(), new SessionConfig { IntraOpThreads = options.Threads });
var ortInput = new Dictionary<string, OrtTensor> { [network.InputName] = OrtTensor.FromFloat(input.Data, options.Batch, 1, 28, 28) };
var ortMs = Measure(options, () => session.Run(ortInput));

// PyTorch in its own process, right after ours, with the same thread count.
var peer = RunPeer(options);

var report = new Dictionary<string, object?>
{
    ["model"] = Path.GetFileName(options.ModelPath),
    ["batch"] = options.Batch,
    ["threads"] = options.Threads,
    ["gemm"] = Gemm.ActiveProvider.ToString(),
    ["acp_train_step_ms"] = trainMs,
    ["acp_train_images_per_s"] = options.Batch * 1000 / trainMs,
    ["acp_inference_images_per_s"] = options.Batch * 1000 / inferMs,
    ["acp_peak_working_set_mb"] = peakMb,
    ["acp_rebuild_and_recalibrate_ms"] = rebuildMs,
    ["ort_inference_images_per_s"] = options.Batch * 1000 / ortMs,
    ["torch_train_step_ms"] = peer?.GetProperty("train_step_ms").GetDouble(),
    ["torch_inference_images_per_s"] = peer?.GetProperty("inference_images_per_s").GetDouble(),
    ["torch_peak_rss_mb"] = peer?.GetProperty("peak_rss_mb").GetDouble(),
};
if (peer is { } p)
{
    report["train_speedup_vs_torch"] = p.GetProperty("train_step_ms").GetDouble() / trainMs;
    report["inference_speedup_vs_torch"] = options.Batch * 1000 / inferMs / p.GetProperty("inference_images_per_s").GetDouble();
}
report["inference_ratio_vs_ort"] = ortMs / inferMs;

if (options.Json)
{
    Console.WriteLine(JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
}
else
{
    foreach (var (key, value) in report)
    {
        Console.WriteLine($"{key,-34} {(value is double d ? d.ToString("0.###", CultureInfo.InvariantCulture) : value)}");
    }
}
return 0;

static double Measure(BenchOptions options, Action step)
{
    for (var i = 0; i < options.Warmup; i++) step();
    var times = new double[options.Steps];
    for (var i = 0; i < times.Length; i++)
    {
        var clock = Stopwatch.StartNew();
        step();
        times[i] = clock.Elapsed.TotalMilliseconds;
    }
    Array.Sort(times);
    return times[times.Length / 2];
}

static JsonElement? RunPeer(BenchOptions options)
{
    var script = Path.Combine(BenchOptions.RepoRoot(), "bench", "pytorch_peer.py");
    var start = new ProcessStartInfo("/usr/bin/python3", [script, "--threads", options.Threads.ToString(CultureInfo.InvariantCulture),
        "--batch", options.Batch.ToString(CultureInfo.InvariantCulture), "--steps", options.Steps.ToString(CultureInfo.InvariantCulture), "--json"])
    {
        RedirectStandardOutput = true,
        RedirectStandardError = true,
    };
    try
    {
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        process.StandardError.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0 ? JsonDocument.Parse(output).RootElement.Clone() : null;
    }
    catch (System.ComponentModel.Win32Exception)
    {
        Console.Error.WriteLine("bench: /usr/bin/python3 not found; the PyTorch peer is skipped (run scripts/setup.sh).");
        return null;
    }
}

internal sealed record BenchOptions(string ModelPath, int Batch, int Steps, int Warmup, int Threads, bool Json, bool Profile)
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
            int.Parse(Value("--steps", "20"), CultureInfo.InvariantCulture),
            int.Parse(Value("--warmup", "3"), CultureInfo.InvariantCulture),
            int.Parse(Value("--threads", "2"), CultureInfo.InvariantCulture),
            args.Contains("--json"),
            args.Contains("--profile") || args.Contains("--profile-only"));
    }

    public static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Acp.sln"))) dir = dir.Parent;
        return dir?.FullName ?? Directory.GetCurrentDirectory();
    }
}
