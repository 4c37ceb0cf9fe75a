using System.Text.Json;
using Acp.Onnx.Analysis;
using Acp.Onnx.Ir;
using Acp.Onnx.Tests.Support;
using static Acp.Cli.Tests.CliHarness;

namespace Acp.Cli.Tests;

public sealed class PruneCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("acp-prune-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("l1", "8")]
    [InlineData("random", "1")]
    public async Task Writes_a_smaller_model_that_onnx_runtime_runs_and_reports_its_real_cost(string strategy, string roundTo)
    {
        var input = Fixtures.PathOf("resnet18.bn.onnx");
        var output = Path.Combine(_dir, "slim.onnx");

        var (code, stdout, error) = await RunAcp("prune", input, "--strategy", strategy, "--ratio", "0.5", "--round-to", roundTo, "--out", output, "--json");

        Assert.True(code == 0, error);
        var report = JsonDocument.Parse(stdout).RootElement;
        var slim = OnnxModel.Load(output);
        var cost = ModelCost.Compute(slim, ShapeInference.Run(slim));
        Assert.Equal(cost.TotalParams, report.GetProperty("paramsAfter").GetInt64());
        Assert.Equal(cost.TotalMacs, report.GetProperty("macsAfter").GetInt64());
        Assert.Equal(Fixtures.Manifest("resnet18.bn.onnx").GetProperty("params_expected").GetInt64(), report.GetProperty("paramsBefore").GetInt64());
        Assert.InRange(report.GetProperty("macsAfter").GetInt64() / (double)report.GetProperty("macsBefore").GetInt64(), 0.15, 0.4);
        Assert.Equal(new FileInfo(output).Length, report.GetProperty("bytesAfter").GetInt64());
        Assert.True(report.GetProperty("latencyAfterMs").GetDouble() > 0);
        using var session = OrtRun.Session(output);
        Assert.Equal([-1, 3, 64, 64], session.InputMetadata.Values.Single().Dimensions);
    }

    [Fact]
    public async Task A_model_whose_every_group_is_fenced_prunes_to_itself()
    {
        var graph = new Graph();
        graph.Inputs.Add(new ValueInfo("x", ElementType.Float, [Dimension.Fixed(1), Dimension.Fixed(3), Dimension.Fixed(4), Dimension.Fixed(4)]));
        graph.Outputs.Add(new ValueInfo("y", ElementType.Float, null));
        graph.Initializers.Add(TinyModels.RandomFloats("w", [2, 3, 1, 1], new Random(1)));
        graph.Nodes.Add(new Node("conv", "Conv", ["x", "w"], ["y"]));
        var model = new OnnxModel(graph);
        model.OpsetImports.Add(new OpsetImport("", 13));
        var input = Path.Combine(_dir, "fenced.onnx");
        model.Save(input);
        var output = Path.Combine(_dir, "out.onnx");

        var (code, stdout, _) = await RunAcp("prune", input, "--ratio", "0.5", "--out", output, "--json");

        Assert.Equal(0, code);
        var report = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal(0, report.GetProperty("prunableGroups").GetInt32());
        Assert.Equal(0, report.GetProperty("channelsRemoved").GetInt32());
        Assert.Equal(OnnxModel.Load(input).ToBytes(), OnnxModel.Load(output).ToBytes());
    }

    [Fact]
    public async Task Never_overwrites_the_input_or_an_existing_file_unasked()
    {
        var input = Path.Combine(_dir, "m.onnx");
        File.Copy(Fixtures.PathOf("tiny_cnn.onnx"), input);
        var before = await File.ReadAllBytesAsync(input);

        var (same, _, error) = await RunAcp("prune", input, "--ratio", "0.5", "--out", input);
        Assert.Equal(ExitCodes.InvalidInput, same);
        Assert.Contains("--out names the input", error);

        var existing = Path.Combine(_dir, "existing.onnx");
        await File.WriteAllTextAsync(existing, "keep me");
        var (exists, _, error2) = await RunAcp("prune", input, "--ratio", "0.5", "--out", existing);
        Assert.Equal(ExitCodes.InvalidInput, exists);
        Assert.Contains("--force", error2);
        Assert.Equal("keep me", await File.ReadAllTextAsync(existing));
        Assert.Equal(before, await File.ReadAllBytesAsync(input));
    }

    [Theory]
    [InlineData("--ratio", "1")]
    [InlineData("--ratio", "-0.1")]
    [InlineData("--strategy", "magic")]
    [InlineData("--round-to", "0")]
    [InlineData("--fitness-steps", "-1")]
    [InlineData("--finalists", "-1")]
    [InlineData("--finalist-steps", "0")]
    [InlineData("--capacity-floor", "1.5")]
    [InlineData("--capacity-floor", "-0.1")]
    public async Task Bad_arguments_are_usage_errors(string option, string value)
    {
        var args = new List<string> { "prune", Fixtures.PathOf("tiny_cnn.onnx"), "--out", Path.Combine(_dir, "o.onnx"), option, value };
        if (option != "--ratio") args.AddRange(["--ratio", "0.5"]);
        var (code, _, error) = await RunAcp([.. args]);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.NotEqual("", error);
    }
}
