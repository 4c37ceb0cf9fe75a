using System.Diagnostics;
using Acp.Onnx.Ir;
using Acp.Onnx.Runtime;
using Acp.Onnx.Tests.Support;
using static Acp.Cli.Tests.CliHarness;

namespace Acp.Cli.Tests;

/// <summary><c>--device</c> on the commands that run ONNX Runtime, and ONNX Runtime's native log kept off standard error.</summary>
public sealed class OrtDeviceAndLogTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("acp-ort-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Models Acp reads but ONNX Runtime refuses: one at graph resolution, one when its kernel is created.</summary>
    public static TheoryData<string> RefusedModels => new("matmul-mismatch", "conv-auto-pad-and-pads");

    [Theory]
    [MemberData(nameof(RefusedModels))]
    public async Task A_model_onnx_runtime_refuses_gives_exactly_one_line_on_the_process_stderr(string kind)
    {
        var model = Path.Combine(_dir, kind + ".onnx");
        Refused(kind).Save(model);

        // A process of its own: the native log writes to file descriptor 2, which only a child's redirection captures.
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet",
            [Path.Combine(AppContext.BaseDirectory, "acp.dll"), "bench", model, "--runs", "1"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = await process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        await stdout;

        Assert.Equal(ExitCodes.Failure, process.ExitCode);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"stderr has {lines.Length} lines:\n{stderr}");
        Assert.StartsWith("acp: error: ", lines[0]);
        Assert.DoesNotContain("\u001b[", stderr);
    }

    [Fact]
    public async Task A_device_that_is_not_cpu_or_cuda_is_a_parse_error_naming_the_accepted_forms()
    {
        var (code, _, error) = await RunAcp("bench", Fixtures.PathOf("tiny_cnn.onnx"), "--device", "gpu");

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("--device: 'gpu' is not a device; expected cpu, cuda or cuda:N", error);
    }

    [Fact]
    public async Task Cuda_without_the_gpu_build_fails_in_one_line_before_bench_or_a_structure_only_prune_writes_anything()
    {
        if (OrtRuntime.HasCudaProvider) return;
        var output = Path.Combine(_dir, "out.onnx");

        var bench = await RunAcp("bench", Fixtures.PathOf("tiny_cnn.onnx"), "--device", "cuda:1", "--json");
        Assert.Equal(ExitCodes.Failure, bench.Code);
        Assert.Equal("", bench.Out);
        Assert.Single(bench.Err.Trim().Split('\n'));
        Assert.Contains("Microsoft.ML.OnnxRuntime.Gpu.Linux 1.32.0 instead of Microsoft.ML.OnnxRuntime", bench.Err);
        Assert.StartsWith("acp: error: cuda:1 needs", bench.Err);

        // prune's --device is where all its work runs; the default engine backend runs on the CPU only.
        var prune = await RunAcp("prune", Fixtures.PathOf("tiny_cnn.onnx"), "--ratio", "0.5", "--out", output, "--device", "cuda");
        Assert.Equal(ExitCodes.InvalidInput, prune.Code);
        Assert.Equal("", prune.Out);
        Assert.Single(prune.Err.Trim().Split('\n'));
        Assert.Contains("needs --backend torchsharp", prune.Err);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public async Task Bench_on_the_cpu_device_names_it()
    {
        var (code, stdout, error) = await RunAcp("bench", Fixtures.PathOf("tiny_cnn.onnx"), "--device", "cpu", "--runs", "2", "--json");

        Assert.True(code == 0, error);
        Assert.Equal("cpu", System.Text.Json.JsonDocument.Parse(stdout).RootElement.GetProperty("device").GetString());
    }

    private static OnnxModel Refused(string kind)
    {
        var graph = new Graph();
        var random = new Random(3);
        if (kind == "matmul-mismatch")
        {
            // [1,3] · [4,2]: the inner dimensions disagree.
            graph.Inputs.Add(new ValueInfo("x", ElementType.Float, [Dimension.Fixed(1), Dimension.Fixed(3)]));
            graph.Initializers.Add(TinyModels.RandomFloats("w", [4, 2], random));
            graph.Nodes.Add(new Node("mm", "MatMul", ["x", "w"], ["y"]));
        }
        else
        {
            // auto_pad and pads together: the ONNX specification forbids it, ONNX Runtime's Conv kernel refuses it.
            graph.Inputs.Add(new ValueInfo("x", ElementType.Float, [Dimension.Fixed(1), Dimension.Fixed(1), Dimension.Fixed(8), Dimension.Fixed(8)]));
            graph.Initializers.Add(TinyModels.RandomFloats("w", [2, 1, 3, 3], random));
            graph.Nodes.Add(new Node("conv", "Conv", ["x", "w"], ["y"],
                [NodeAttribute.FromString("auto_pad", "SAME_UPPER"), NodeAttribute.FromInts("pads", [1, 1, 1, 1])]));
        }
        graph.Outputs.Add(new ValueInfo("y", ElementType.Float, null));
        var model = new OnnxModel(graph);
        model.OpsetImports.Add(new OpsetImport("", 13));
        return model;
    }
}
