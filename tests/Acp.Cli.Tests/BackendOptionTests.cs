using System.Text.Json;
using Acp.Cli.Commands;
using Xunit.Abstractions;
using static Acp.Cli.Tests.CliHarness;

namespace Acp.Cli.Tests;

/// <summary><c>--backend engine|torchsharp</c> and <c>--device</c> on eval and prune.</summary>
public sealed class BackendOptionTests(ITestOutputHelper log) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("acp-backend-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Eval_with_torchsharp_gives_the_engines_accuracy_on_the_shipped_model()
    {
        var model = Path.Combine(_dir, "fashion_resnet20.onnx");
        DemoCommand.WriteEmbeddedModel(model);
        var data = SmallIdxData.Write(Path.Combine(_dir, "data"), train: 64, test: 500);

        var engine = await Accuracy("eval", model, "--data", data, "--json");
        var torch = await Accuracy("eval", model, "--data", data, "--json", "--backend", "torchsharp", "--device", "cpu");

        log.WriteLine($"top-1 on 500 Fashion-MNIST test images: engine {engine.Accuracy:P2} ({engine.Seconds:0.0} s), torchsharp {torch.Accuracy:P2} ({torch.Seconds:0.0} s)");
        Assert.Equal(500, torch.Images);
        Assert.InRange(engine.Accuracy, 0.85, 1); // the shipped model scores about 94 %: both really ran it
        Assert.Equal(engine.Accuracy, torch.Accuracy);
    }

    [Theory]
    [InlineData("eval")]
    [InlineData("prune")]
    public async Task Torchsharp_on_cuda_without_cuda_fails_at_once_in_one_line(string command)
    {
        var model = Path.Combine(_dir, "fashion_resnet20.onnx");
        DemoCommand.WriteEmbeddedModel(model);
        string[] args = command == "eval"
            ? ["eval", model, "--data", "/nonexistent", "--backend", "torchsharp", "--device", "cuda"]
            : ["prune", model, "--data", "/nonexistent", "--target-flops", "0.5", "--out", Path.Combine(_dir, "out.onnx"), "--backend", "torchsharp", "--device", "cuda:1"];

        var (code, output, error) = await RunAcp(args);

        Assert.Equal(ExitCodes.Failure, code);
        Assert.Equal("", output);
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("CUDA is not available", line);
    }

    [Fact]
    public async Task The_engine_on_cuda_is_an_input_error()
    {
        var model = Path.Combine(_dir, "fashion_resnet20.onnx");
        DemoCommand.WriteEmbeddedModel(model);
        var (code, _, error) = await RunAcp("eval", model, "--data", "/nonexistent", "--device", "cuda");
        Assert.Equal(ExitCodes.InvalidInput, code);
        Assert.Contains("needs --backend torchsharp", error);
    }

    [Theory]
    [InlineData("--backend", "onnxruntime")]
    [InlineData("--device", "gpu")]
    [InlineData("--device", "cuda:x")]
    public async Task Unknown_backend_or_device_does_not_parse(string option, string value)
    {
        var (code, _, error) = await RunAcp("eval", "m.onnx", "--data", _dir, option, value);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains(value, error);
    }

    [Fact]
    public void The_backend_option_resolves_to_the_backend_on_its_device()
    {
        var torch = BackendOption.Resolve("torchsharp", Acp.Onnx.ComputeDevice.Cpu);
        Assert.Equal("torchsharp", torch.Name);
        Assert.Equal("cpu", torch.Device);
        Assert.Equal("engine", BackendOption.Resolve("engine", Acp.Onnx.ComputeDevice.Cpu).Name);
    }

    private static async Task<(double Accuracy, int Images, double Seconds)> Accuracy(params string[] args)
    {
        var (code, output, error) = await RunAcp(args);
        Assert.True(code == 0, error);
        var json = JsonDocument.Parse(output).RootElement;
        return (json.GetProperty("accuracy").GetDouble(), json.GetProperty("images").GetInt32(), json.GetProperty("seconds").GetDouble());
    }
}
