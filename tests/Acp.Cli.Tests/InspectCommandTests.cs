using System.Text.Json;
using Acp.Onnx.Tests.Support;
using static Acp.Cli.Tests.CliHarness;

namespace Acp.Cli.Tests;

public sealed class InspectCommandTests
{
    [Theory]
    [InlineData("resnet18.bn.onnx")]
    [InlineData("mobilenet_v2.folded.onnx")]
    public async Task Json_totals_equal_pytorchs_counts(string file)
    {
        var manifest = Fixtures.Manifest(file);

        var (code, output, error) = await RunAcp("inspect", Fixtures.PathOf(file), "--json");

        Assert.Equal(0, code);
        Assert.Equal("", error);
        var json = JsonDocument.Parse(output).RootElement;
        Assert.Equal(manifest.GetProperty("params_expected").GetInt64(), json.GetProperty("totalParams").GetInt64());
        Assert.Equal(manifest.GetProperty("macs_expected").GetInt64(), json.GetProperty("totalMacs").GetInt64());
        Assert.Equal("[batch,3,64,64]", json.GetProperty("inputs")[0].GetProperty("shape").GetString());
        Assert.Empty(json.GetProperty("notUnderstood").EnumerateArray());
        var convs = manifest.GetProperty("op_histogram").GetProperty("Conv").GetInt32();
        Assert.Equal(convs, json.GetProperty("opHistogram").GetProperty("Conv").GetInt32());
        Assert.Equal(convs, json.GetProperty("layers").EnumerateArray().Count(l => l.GetProperty("opType").GetString() == "Conv"));
    }

    [Fact]
    public async Task Json_lists_channel_groups_with_fence_reasons()
    {
        var (code, output, _) = await RunAcp("inspect", Fixtures.PathOf("resnet18.folded.onnx"), "--json");

        Assert.Equal(0, code);
        var groups = JsonDocument.Parse(output).RootElement.GetProperty("channelGroups").EnumerateArray().ToList();
        var prunable = groups.Where(g => g.GetProperty("prunable").GetBoolean()).ToList();
        var fenced = groups.Where(g => !g.GetProperty("prunable").GetBoolean()).ToList();
        Assert.Equal(12, prunable.Count);
        Assert.Equal(2, fenced.Count);
        Assert.Contains(fenced, g => g.GetProperty("fenceReasons")[0].GetString()!.Contains("graph input 'input'", StringComparison.Ordinal));
        Assert.Contains(fenced, g => g.GetProperty("fenceReasons")[0].GetString()!.Contains("graph output 'logits'", StringComparison.Ordinal));
        // The residual stages tie the stem, each block's second conv and the downsample conv into one group.
        Assert.Contains(prunable, g => g.GetProperty("producers").GetArrayLength() == 3 && g.GetProperty("width").GetInt32() == 64);
    }

    [Fact]
    public async Task Batch_scales_macs_and_shapes()
    {
        var path = Fixtures.PathOf("resnet18.folded.onnx");
        var one = JsonDocument.Parse((await RunAcp("inspect", path, "--json")).Out).RootElement;
        var four = JsonDocument.Parse((await RunAcp("inspect", path, "--json", "--batch", "4")).Out).RootElement;
        Assert.Equal(4 * one.GetProperty("totalMacs").GetInt64(), four.GetProperty("totalMacs").GetInt64());
        Assert.Equal(one.GetProperty("totalParams").GetInt64(), four.GetProperty("totalParams").GetInt64());
        Assert.Equal("[4,10]", four.GetProperty("layers").EnumerateArray().Last().GetProperty("outputShape").GetString());
    }

    [Fact]
    public async Task Table_lists_layers_totals_and_interface()
    {
        var (code, output, _) = await RunAcp("inspect", Fixtures.PathOf("resnet18.bn.onnx"));
        Assert.Equal(0, code);
        Assert.Contains("[batch,3,64,64]", output);
        Assert.Contains("/conv1/Conv", output);
        Assert.Contains("11,181,642", output); // PyTorch's parameter count of the BN-kept ResNet-18
        Assert.Contains("Everything in the graph is understood.", output);
    }

    [Fact]
    public async Task Unknown_operators_are_reported_not_fatal()
    {
        var (code, output, _) = await RunAcp("inspect", Fixtures.PathOf("edge_unknown_op.noort.onnx"));
        Assert.Equal(0, code);
        Assert.Contains("com.acp.test.Mystery", output);
        Assert.Contains("Not understood", output);
    }

    [Fact]
    public async Task Bad_model_is_one_line_and_exit_code_2()
    {
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(file, "not a model");
            var (code, output, error) = await RunAcp("inspect", file);
            Assert.Equal(ExitCodes.InvalidInput, code);
            Assert.Equal("", output);
            var line = Assert.Single(error.TrimEnd().Split('\n'));
            Assert.StartsWith($"acp: error: {file}: not an ONNX model", line);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Verbose_adds_the_stack_trace()
    {
        var (code, _, error) = await RunAcp("inspect", "/nonexistent.onnx", "--verbose");
        Assert.Equal(ExitCodes.InvalidInput, code);
        Assert.Contains("/nonexistent.onnx: file not found.", error);
        Assert.Contains(" at ", error);
    }

    [Theory]
    [InlineData("inspect")]
    [InlineData("inspect", "a.onnx", "--batch", "0")]
    [InlineData("inspect", "a.onnx", "--no-such-option")]
    [InlineData("no-such-verb")]
    public async Task Usage_errors_exit_with_1(params string[] args)
    {
        var (code, _, error) = await RunAcp(args);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.NotEqual("", error);
    }
}
