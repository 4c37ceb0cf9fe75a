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
    [InlineData("--latency-batch", "0")]
    [InlineData("--latency-threads", "-1")]
    [InlineData("--lr", "NaN")]
    [InlineData("--lr", "0")]
    [InlineData("--crop-padding", "-3")]
    [InlineData("--std", "0")]
    [InlineData("--std", "0.3,x")]
    [InlineData("--mean", "Infinity")]
    [InlineData("--distillation-weight", "1.5")]
    [InlineData("--aip-step", "0")]
    [InlineData("--aip-step", "1.2")]
    [InlineData("--aip-recovery-steps", "-1")]
    [InlineData("--aip-importance", "taylor")]
    [InlineData("--aip-attention", "-1")]
    [InlineData("--aip-adversarial", "NaN")]
    [InlineData("--aip-discriminator-width", "0")]
    public async Task Bad_arguments_are_usage_errors(string option, string value)
    {
        var args = new List<string> { "prune", Fixtures.PathOf("tiny_cnn.onnx"), "--out", Path.Combine(_dir, "o.onnx"), option, value };
        if (option != "--ratio") args.AddRange(["--ratio", "0.5"]);
        var (code, _, error) = await RunAcp([.. args]);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Single(error.Trim().Split('\n'));
        Assert.True(error.Contains(option) || error.Contains($"'{value}'"), error);
        Assert.False(File.Exists(Path.Combine(_dir, "o.onnx")));
    }

    [Theory]
    [InlineData("symbolic")]
    [InlineData("hard")]
    public async Task An_input_reached_through_a_link_is_never_overwritten(string kind)
    {
        if (kind == "hard" && !OperatingSystem.IsLinux()) return;
        var real = Path.Combine(_dir, "real.onnx");
        File.Copy(Fixtures.PathOf("tiny_cnn.onnx"), real);
        var before = await File.ReadAllBytesAsync(real);
        var link = Path.Combine(_dir, "link.onnx");
        if (kind == "symbolic") File.CreateSymbolicLink(link, "real.onnx");
        else FileIdentityTests.HardLink(real, link);

        // The input is the link and --out the real file, and the other way round; --force does not change the answer.
        foreach (var (input, output) in new[] { (link, real), (real, link) })
        {
            var (code, _, error) = await RunAcp("prune", input, "--ratio", "0.5", "--out", output, "--force");

            Assert.Equal(ExitCodes.InvalidInput, code);
            Assert.Single(error.Trim().Split('\n'));
            Assert.Contains("--out names the input model", error);
            Assert.Equal(before, await File.ReadAllBytesAsync(real));
        }
        Assert.Equal(kind == "symbolic", new FileInfo(link).LinkTarget is not null);
    }

    [Fact]
    public async Task Out_naming_a_folder_is_refused_before_any_work_and_creates_nothing()
    {
        var folder = Path.Combine(_dir, "newdir") + Path.DirectorySeparatorChar;

        var (code, _, error) = await RunAcp("prune", Fixtures.PathOf("tiny_cnn.onnx"), "--ratio", "0.5", "--out", folder);

        Assert.Equal(ExitCodes.InvalidInput, code);
        Assert.Single(error.Trim().Split('\n'));
        Assert.Contains("names a folder", error);
        Assert.False(Directory.Exists(folder));

        Directory.CreateDirectory(Path.Combine(_dir, "existing"));
        (code, _, error) = await RunAcp("prune", Fixtures.PathOf("tiny_cnn.onnx"), "--ratio", "0.5", "--out", Path.Combine(_dir, "existing"), "--force");
        Assert.Equal(ExitCodes.InvalidInput, code);
        Assert.Contains("names a folder", error);
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(_dir, "existing")));
    }

    [Fact]
    public async Task Out_under_a_regular_file_says_so()
    {
        var file = Path.Combine(_dir, "file.txt");
        await File.WriteAllTextAsync(file, "keep me");

        var (code, _, error) = await RunAcp("prune", Fixtures.PathOf("tiny_cnn.onnx"), "--ratio", "0.5", "--out", Path.Combine(file, "x.onnx"));

        Assert.Equal(ExitCodes.InvalidInput, code);
        Assert.Single(error.Trim().Split('\n'));
        Assert.Contains($"{file} is a file, not a folder", error);
        Assert.Equal("keep me", await File.ReadAllTextAsync(file));
    }

    [Fact]
    public async Task Out_in_a_folder_that_does_not_exist_yet_is_written_there()
    {
        var output = Path.Combine(_dir, "new", "deeper", "slim.onnx");

        var (code, _, error) = await RunAcp("prune", Fixtures.PathOf("tiny_cnn.onnx"), "--ratio", "0.5", "--out", output, "--json");

        Assert.True(code == 0, error);
        using var session = OrtRun.Session(output);
    }
}
