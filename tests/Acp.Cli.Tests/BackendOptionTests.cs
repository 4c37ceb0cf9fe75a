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
    public async Task Eval_with_torchsharp_gives_the_engines_top1_and_top5_on_the_shipped_model()
    {
        var model = Path.Combine(_dir, "fashion_resnet20.onnx");
        DemoCommand.WriteEmbeddedModel(model);
        var data = SmallIdxData.Write(Path.Combine(_dir, "data"), train: 64, test: 500);

        var engine = await Accuracy("eval", model, "--data", data, "--json");
        var torch = await Accuracy("eval", model, "--data", data, "--json", "--backend", "torchsharp", "--device", "cpu");

        log.WriteLine($"500 Fashion-MNIST test images: engine top-1 {engine.Accuracy:P2} top-5 {engine.Top5:P2} ({engine.Seconds:0.0} s), torchsharp top-1 {torch.Accuracy:P2} top-5 {torch.Top5:P2} ({torch.Seconds:0.0} s)");
        Assert.Equal(500, torch.Images);
        Assert.InRange(engine.Accuracy, 0.85, 1); // the shipped model scores about 94 %: both really ran it
        Assert.InRange(engine.Top5!.Value, engine.Accuracy, 1);
        Assert.NotNull(torch.Top5); // ten classes: the TorchSharp backend reports top-5 too
        // Counts of correct images equal, or one apart where float noise reorders two nearly tied scores.
        Assert.InRange(Math.Abs(engine.Accuracy - torch.Accuracy) * 500, 0, 1.0001);
        Assert.InRange(Math.Abs(engine.Top5.Value - torch.Top5!.Value) * 500, 0, 1.0001);
        Assert.Equal(engine.MeanLoss, torch.MeanLoss, 3);
    }

    [Fact]
    public async Task Eval_with_torchsharp_prints_top5_like_the_engine()
    {
        var model = Path.Combine(_dir, "fashion_resnet20.onnx");
        DemoCommand.WriteEmbeddedModel(model);
        var data = SmallIdxData.Write(Path.Combine(_dir, "data"), train: 16, test: 40);

        var (code, output, error) = await RunAcp("eval", model, "--data", data, "--quiet", "--backend", "torchsharp");

        Assert.True(code == 0, error);
        Assert.Matches(@"^top-1 \d+\.\d\d %, top-5 \d+\.\d\d % on 40 test images", output.Trim());
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

    private static async Task<(double Accuracy, double? Top5, double MeanLoss, int Images, double Seconds)> Accuracy(params string[] args)
    {
        var (code, output, error) = await RunAcp(args);
        Assert.True(code == 0, error);
        var json = JsonDocument.Parse(output).RootElement;
        var top5 = json.GetProperty("top5");
        return (json.GetProperty("accuracy").GetDouble(), top5.ValueKind == JsonValueKind.Null ? null : top5.GetDouble(),
            json.GetProperty("meanLoss").GetDouble(), json.GetProperty("images").GetInt32(), json.GetProperty("seconds").GetDouble());
    }
}
