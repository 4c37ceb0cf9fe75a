using System.Text.Json;
using Acp.Onnx.Analysis;
using Acp.Onnx.Ir;
using Acp.Onnx.Tests.Support;

namespace Acp.Onnx.Tests.Analysis;

/// <summary>Shape inference and cost counting on the generated fixtures, against PyTorch's numbers in the manifest.</summary>
public sealed class FixtureCostTests
{
    public static TheoryData<string> Torchvision => Fixtures.TorchvisionData;

    /// <summary>Every hand-built edge case except the unknown operator, which has its own test.</summary>
    public static TheoryData<string> Edges => new(
        "edge_concat_same_twice.onnx", "edge_one_channel_conv.onnx", "edge_split_after_concat.onnx", "edge_flatten_gemm.onnx",
        "edge_reshape_explicit.onnx", "edge_clip_minmax.onnx", "edge_residual_add.onnx", "edge_depthwise.onnx",
        "edge_shape_gather_reshape.onnx", "edge_grouped_conv.onnx", "edge_maxpool_avgpool_pad.onnx",
        "edge_identity_shared_bias.onnx", "tiny_mlp.onnx", "tiny_cnn.onnx");

    [Theory]
    [MemberData(nameof(Torchvision))]
    public void TorchvisionParamsMacsAndOutputShapeMatchPyTorch(string file)
    {
        var model = OnnxModel.Load(Fixtures.PathOf(file));
        var manifest = Fixtures.Manifest(file);
        var shapes = ShapeInference.Run(model);
        var cost = ModelCost.Compute(model, shapes);

        Assert.Empty(shapes.Diagnostics);
        Assert.Equal(manifest.GetProperty("params_expected").GetInt64(), cost.TotalParams);
        Assert.Equal(manifest.GetProperty("macs_expected").GetInt64(), cost.TotalMacs);
        Assert.Equal(0, cost.NodesWithUnknownMacs);
        Assert.Equal(ExpectedShape(manifest.GetProperty("output_shape")), shapes.KnownShape(manifest.GetProperty("output_name").GetString()!));
    }

    [Theory]
    [MemberData(nameof(Torchvision))]
    public void TorchvisionBatchOfFourGivesFourRowsAndFourTimesTheMacs(string file)
    {
        var model = OnnxModel.Load(Fixtures.PathOf(file));
        var manifest = Fixtures.Manifest(file);
        var input = manifest.GetProperty("input_name").GetString()!;
        var shapes = ShapeInference.Run(model, new Dictionary<string, long[]> { [input] = [4, 3, 64, 64] });

        Assert.Empty(shapes.Diagnostics);
        Assert.Equal([4, 10], shapes.KnownShape(manifest.GetProperty("output_name").GetString()!));
        Assert.Equal(4 * manifest.GetProperty("macs_expected").GetInt64(), ModelCost.Compute(model, shapes).TotalMacs);
    }

    [Theory]
    [MemberData(nameof(Edges))]
    public void EdgeCaseMacsAndOutputShapeMatchTheManifest(string file)
    {
        var model = OnnxModel.Load(Fixtures.PathOf(file));
        var manifest = Fixtures.Manifest(file);
        var shapes = ShapeInference.Run(model);

        Assert.Empty(shapes.Diagnostics);
        Assert.Equal(manifest.GetProperty("macs_expected").GetInt64(), ModelCost.Compute(model, shapes).TotalMacs);
        Assert.Equal(ExpectedShape(manifest.GetProperty("output_shape")), shapes.KnownShape(manifest.GetProperty("output_name").GetString()!));
    }

    [Theory]
    [MemberData(nameof(Edges))]
    public void EdgeCaseParamsMatchTheManifest(string file)
    {
        var model = OnnxModel.Load(Fixtures.PathOf(file));
        var expected = Fixtures.Manifest(file).GetProperty("params_expected").GetInt64();
        var counted = ModelCost.Compute(model, ShapeInference.Run(model)).TotalParams;
        Assert.Equal(expected, counted);
    }

    [Fact]
    public void UnknownOperatorFixtureIsDiagnosedAndTheRestStillCounted()
    {
        const string file = "edge_unknown_op.noort.onnx";
        var model = OnnxModel.Load(Fixtures.PathOf(file));
        var shapes = ShapeInference.Run(model);
        var cost = ModelCost.Compute(model, shapes);

        var diagnostic = Assert.Single(shapes.Diagnostics, d => d.Node is not null);
        Assert.Equal("Mystery", diagnostic.Node!.OpType);
        Assert.Contains("com.acp.test::Mystery", diagnostic.ToString());
        Assert.Equal(Fixtures.Manifest(file).GetProperty("params_expected").GetInt64(), cost.TotalParams);
        Assert.Equal(1, cost.NodesWithUnknownMacs);
        Assert.Equal(8L * 8 * 4 * 27, cost.TotalMacs);
    }

    [Theory]
    [InlineData("resnet50.bn.onnx", new long[] { 1, 5, 64, 64 }, "the input has 5 channels but the weight [64,3,7,7]")]
    [InlineData("mobilenet_v2.folded.onnx", new long[] { 1, 3, 1, 1 }, "")]
    [InlineData("densenet121.bn.onnx", new long[] { 0, 3, 64, 64 }, "")]
    [InlineData("vgg11_bn.folded.onnx", new long[] { 1, 3, 1L << 40, 1L << 40 }, "overflow 64-bit integers")]
    [InlineData("resnet18.folded.onnx", new long[] { 1, 3, 64 }, "has rank 4 but the input [1,3,64] has rank 3")]
    public void OddInputShapesAreDiagnosedNotThrown(string file, long[] inputShape, string expected)
    {
        var model = OnnxModel.Load(Fixtures.PathOf(file));
        var input = Fixtures.Manifest(file).GetProperty("input_name").GetString()!;
        var shapes = ShapeInference.Run(model, new Dictionary<string, long[]> { [input] = inputShape });
        var cost = ModelCost.Compute(model, shapes);
        if (expected.Length > 0) Assert.Contains(shapes.Diagnostics, d => d.Message.Contains(expected, StringComparison.Ordinal));
        Assert.True(cost.TotalParams > 0);
    }

    /// <summary>The manifest's output shape, with a symbolic dimension (a string) at its default value 1.</summary>
    private static long[] ExpectedShape(JsonElement shape) =>
        shape.EnumerateArray().Select(d => d.ValueKind == JsonValueKind.Number ? d.GetInt64() : 1).ToArray();
}
