using System.Text.Json;
using Acp.Onnx.Analysis;
using Acp.Onnx.Ir;
using Acp.Onnx.Tests.Support;
using Acp.Pruning.Pipeline;
using static Acp.Cli.Tests.CliHarness;

namespace Acp.Cli.Tests;

/// <summary>
/// ImageNet-size models Acp did not export itself: the CNTK ResNet-18 of the NuGet package
/// Microsoft.ML.DnnImageFeaturizer.ResNet18 (opset 8, output the 512 pooled features) and torchvision's ResNet-50 and
/// MobileNetV2 at 224 px. Each loads, inspects with nothing left unexplained, prunes structure-only, and ONNX Runtime
/// runs the pruned model with the original's output shape.
/// </summary>
public sealed class ForeignModelTests
{
    public static TheoryData<string> Models => new("resnet18.cntk.onnx", "resnet50.224.onnx", "mobilenet_v2.224.onnx");

    [Theory]
    [InlineData("resnet50.224.onnx")]
    [InlineData("mobilenet_v2.224.onnx")]
    public async Task Inspect_counts_what_pytorch_counts_at_224_pixels(string file)
    {
        var manifest = Fixtures.ImagenetManifest(file);

        var (code, output, error) = await RunAcp("inspect", Fixtures.ImagenetPathOf(file), "--json");

        Assert.True(code == 0, error);
        var json = JsonDocument.Parse(output).RootElement;
        Assert.Equal(manifest.GetProperty("params_expected").GetInt64(), json.GetProperty("totalParams").GetInt64());
        Assert.Equal(manifest.GetProperty("macs_expected").GetInt64(), json.GetProperty("totalMacs").GetInt64());
        Assert.Equal("[batch,3,224,224]", json.GetProperty("inputs")[0].GetProperty("shape").GetString());
        Assert.Empty(json.GetProperty("notUnderstood").EnumerateArray());
    }

    [Fact]
    public async Task Inspect_reads_the_cntk_opset_8_export_with_the_shapes_onnx_runtime_sees()
    {
        var path = Fixtures.ImagenetPathOf("resnet18.cntk.onnx");
        using var session = OrtRun.Session(path, threads: 1);
        var input = session.InputMetadata.Single();
        var output = session.OutputMetadata.Single();

        var (code, stdout, error) = await RunAcp("inspect", path, "--json");

        Assert.True(code == 0, error);
        var json = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal(8, json.GetProperty("opset").GetInt32());
        Assert.Equal(Bracketed(input.Value.Dimensions), json.GetProperty("inputs")[0].GetProperty("shape").GetString());
        Assert.Equal(Bracketed(output.Value.Dimensions), json.GetProperty("outputs")[0].GetProperty("shape").GetString());
        Assert.Equal("[1,512,1,1]", json.GetProperty("outputs")[0].GetProperty("shape").GetString());
        Assert.Empty(json.GetProperty("notUnderstood").EnumerateArray());
        Assert.Contains(json.GetProperty("channelGroups").EnumerateArray(), g => g.GetProperty("prunable").GetBoolean());
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Structure_only_prune_gives_a_model_onnx_runtime_runs_with_the_original_output_shape(string file)
    {
        var path = Fixtures.ImagenetPathOf(file);
        var original = OnnxModel.Load(path);

        var result = PruningPipeline.Run(original, null, new PruningOptions { Strategy = PruningStrategy.L1, Ratio = 0.5 });

        var pruned = result.Model.ToBytes();
        using var stream = new MemoryStream(pruned);
        var reloaded = OnnxModel.Load(stream, file);
        var cost = ModelCost.Compute(reloaded, ShapeInference.Run(reloaded));
        Assert.Equal(cost.TotalMacs, result.Pruned.Macs);
        Assert.InRange(result.Pruned.Macs / (double)result.Original.Macs, 0.15, 0.45);
        var inputName = original.Graph.Inputs.Single(i => original.Graph.Initializers.All(t => t.Name != i.Name)).Name;
        var input = new float[3 * 224 * 224];
        var random = new Random(7);
        for (var i = 0; i < input.Length; i++) input[i] = (float)random.NextDouble() * 2 - 1;
        using var before = OrtRun.Session(path, threads: 1);
        using var after = OrtRun.Session(pruned, threads: 1);
        var expected = before.First(inputName, input, 1, 3, 224, 224);
        var actual = after.First(inputName, input, 1, 3, 224, 224);
        Assert.Equal(expected.Shape, actual.Shape);
        Assert.All(actual.Data, v => Assert.True(float.IsFinite(v)));
    }

    private static string Bracketed(int[] dimensions) => "[" + string.Join(",", dimensions) + "]";
}
