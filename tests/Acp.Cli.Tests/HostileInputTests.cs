using System.Diagnostics;
using Acp.Onnx.Ir;
using Acp.Onnx.Tests.Support;
using static Acp.Cli.Tests.CliHarness;

namespace Acp.Cli.Tests;

/// <summary>Inputs that crashed acp with an internal error (issue 18, item 2): each is now one clear line.</summary>
public sealed class HostileInputTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("acp-hostile-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("/dev/zero")]
    [InlineData("/dev/urandom")]
    public async Task A_device_is_refused_at_once_instead_of_read_until_memory_runs_out(string device)
    {
        var clock = Stopwatch.StartNew();
        var (code, _, error) = await RunAcp("inspect", device);

        Assert.Equal(ExitCodes.InvalidInput, code);
        Assert.Single(error.Trim().Split('\n'));
        Assert.Contains($"{device}: cannot read the file: it is not a regular file", error);
        // Reading a device until memory runs out never ends; a refusal takes a process start. The bound is loose because
        // the process start alone took 13 s once with every test project running on two loaded cores.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"took {clock.Elapsed}");
    }

    [Theory]
    [InlineData("bench")]
    [InlineData("prune")]
    public async Task An_input_dimension_of_two_to_the_33_is_refused_by_the_latency_measurement(string command)
    {
        var model = Path.Combine(_dir, "huge-input.onnx");
        HugeInputModel(1L << 33).Save(model);
        string[] args = command == "bench"
            ? ["bench", model, "--runs", "1"]
            : ["prune", model, "--ratio", "0.5", "--out", Path.Combine(_dir, "out.onnx"), "--quiet"];

        var (code, _, error) = await RunAcp(args);

        Assert.Equal(ExitCodes.InvalidInput, code);
        Assert.Single(error.Trim().Split('\n'));
        Assert.Contains("more elements than a latency measurement can hold", error);
        if (command == "prune") Assert.False(File.Exists(Path.Combine(_dir, "out.onnx")), "the model was written before the input was found unrunnable");
    }

    /// <summary>Conv → Relu → Conv on a [1, 3, height, 8] input: valid, prunable, and far too big to run.</summary>
    private static OnnxModel HugeInputModel(long height)
    {
        var random = new Random(0);
        var graph = new Graph { Name = "huge_input" };
        graph.Inputs.Add(new ValueInfo("input", ElementType.Float, [Dimension.Fixed(1), Dimension.Fixed(3), Dimension.Fixed(height), Dimension.Fixed(8)]));
        graph.Outputs.Add(new ValueInfo("output", ElementType.Float, null));
        graph.Initializers.Add(TinyModels.RandomFloats("a.w", [16, 3, 3, 3], random));
        graph.Initializers.Add(TinyModels.RandomFloats("b.w", [4, 16, 1, 1], random));
        graph.Nodes.Add(new Node("a", "Conv", ["input", "a.w"], ["a"], [NodeAttribute.FromInts("kernel_shape", [3, 3]), NodeAttribute.FromInts("pads", [1, 1, 1, 1])]));
        graph.Nodes.Add(new Node("relu", "Relu", ["a"], ["r"]));
        graph.Nodes.Add(new Node("b", "Conv", ["r", "b.w"], ["output"], [NodeAttribute.FromInts("kernel_shape", [1, 1])]));
        var model = new OnnxModel(graph) { IrVersion = 8, ProducerName = "acp-tests" };
        model.OpsetImports.Add(new OpsetImport("", 13));
        return model;
    }
}
