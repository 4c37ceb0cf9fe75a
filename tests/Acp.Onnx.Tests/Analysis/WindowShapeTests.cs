using Acp.Onnx.Analysis;
using static Acp.Onnx.Tests.Analysis.GraphBuilder;

namespace Acp.Onnx.Tests.Analysis;

/// <summary>Shape rules of Conv, ConvTranspose and pooling, against hand-computed sizes.</summary>
public sealed class WindowShapeTests
{
    private static long[] ConvOutput(long[] input, long[] weight, params Acp.Onnx.Ir.NodeAttribute[] attributes)
    {
        var b = new GraphBuilder();
        var y = b.Add("Conv", [b.Input("x", input), b.Weight("w", weight)], attributes);
        var result = ShapeInference.Run(b.Build(y));
        Assert.Empty(result.Diagnostics);
        return result.KnownShape(y);
    }

    [Fact]
    public void ConvWithPadsAndStrides()
    {
        // (32 + 1 + 1 - 3) / 2 + 1 = 16
        Assert.Equal([1, 8, 16, 16], ConvOutput([1, 3, 32, 32], [8, 3, 3, 3], IntsAttr("pads", 1, 1, 1, 1), IntsAttr("strides", 2, 2)));
    }

    [Fact]
    public void ConvWithDilationAndAsymmetricPads()
    {
        // Extent (3-1)*2+1 = 5. Height: (32 + 2 + 0 - 5) / 2 + 1 = 15; width: (20 + 0 + 1 - 5) / 1 + 1 = 17.
        Assert.Equal([1, 8, 15, 17], ConvOutput([1, 3, 32, 20], [8, 3, 3, 3],
            IntsAttr("pads", 2, 0, 0, 1), IntsAttr("strides", 2, 1), IntsAttr("dilations", 2, 2), IntsAttr("kernel_shape", 3, 3)));
    }

    [Fact]
    public void GroupedConvTakesChannelsPerGroupFromTheWeight()
    {
        Assert.Equal([2, 16, 8, 8], ConvOutput([2, 8, 10, 10], [16, 2, 3, 3], IntAttr("group", 4)));
    }

    [Fact]
    public void ConvSameUpperIsInputOverStrideRoundedUp()
    {
        Assert.Equal([1, 4, 8, 3], ConvOutput([1, 3, 15, 5], [4, 3, 3, 3], StrAttr("auto_pad", "SAME_UPPER"), IntsAttr("strides", 2, 2)));
    }

    [Fact]
    public void ConvValidIgnoresPads()
    {
        // (10 - 3) / 2 + 1 = 4
        Assert.Equal([1, 4, 4, 4], ConvOutput([1, 3, 10, 10], [4, 3, 3, 3], StrAttr("auto_pad", "VALID"), IntsAttr("strides", 2, 2)));
    }

    [Fact]
    public void Conv1dWorks()
    {
        Assert.Equal([1, 6, 98], ConvOutput([1, 2, 100], [6, 2, 3]));
    }

    [Fact]
    public void ConvTransposeFollowsTheTransposedFormula()
    {
        // 2 * (8 - 1) + 1 (output_padding) + 3 - 1 - 1 = 16; C_out = W[1] * group = 2 * 2.
        var b = new GraphBuilder();
        var y = b.Add("ConvTranspose", [b.Input("x", 1, 4, 8, 8), b.Weight("w", 4, 2, 3, 3)],
            IntAttr("group", 2), IntsAttr("strides", 2, 2), IntsAttr("pads", 1, 1, 1, 1), IntsAttr("output_padding", 1, 1));
        Assert.Equal([1, 4, 16, 16], ShapeInference.Run(b.Build(y)).KnownShape(y));
    }

    [Fact]
    public void ConvTransposeHonoursOutputShape()
    {
        var b = new GraphBuilder();
        var y = b.Add("ConvTranspose", [b.Input("x", 1, 4, 8, 8), b.Weight("w", 4, 3, 3, 3)], IntsAttr("strides", 2, 2), IntsAttr("output_shape", 17, 17));
        Assert.Equal([1, 3, 17, 17], ShapeInference.Run(b.Build(y)).KnownShape(y));
    }

    [Theory]
    // floor((10 - 3) / 2) + 1 = 4; with ceil_mode ceil(7 / 2) + 1 = 5.
    [InlineData("MaxPool", 10, 3, 2, 0, 0, 4)]
    [InlineData("MaxPool", 10, 3, 2, 0, 1, 5)]
    [InlineData("AveragePool", 10, 3, 2, 0, 1, 5)]
    // ceil((5 + 2 - 2) / 2) + 1 = 4, but the 4th window would start at 6 >= 5 + 1 (input plus begin pad): dropped, as PyTorch does.
    [InlineData("MaxPool", 5, 2, 2, 1, 1, 3)]
    [InlineData("MaxPool", 5, 2, 2, 1, 0, 3)]
    [InlineData("AveragePool", 7, 3, 2, 1, 1, 4)]
    [InlineData("MaxPool", 112, 3, 2, 1, 0, 56)]
    public void PoolOutputSizes(string op, long size, long kernel, long stride, long pad, long ceilMode, long expected)
    {
        var b = new GraphBuilder();
        var y = b.Add(op, [b.Input("x", 1, 2, size, size)], IntsAttr("kernel_shape", kernel, kernel), IntsAttr("strides", stride, stride),
            IntsAttr("pads", pad, pad, pad, pad), IntAttr("ceil_mode", ceilMode));
        var result = ShapeInference.Run(b.Build(y));
        Assert.Empty(result.Diagnostics);
        Assert.Equal([1, 2, expected, expected], result.KnownShape(y));
    }

    [Fact]
    public void MaxPoolIndicesAreInt64LikeTheOutput()
    {
        var b = new GraphBuilder();
        var outputs = b.AddMany("MaxPool", [b.Input("x", 1, 2, 8, 8)], 2, IntsAttr("kernel_shape", 2, 2), IntsAttr("strides", 2, 2));
        var result = ShapeInference.Run(b.Build(outputs));
        Assert.Equal([1, 2, 4, 4], result.KnownShape(outputs[1]));
        Assert.Equal(Acp.Onnx.Ir.ElementType.Int64, result.ElementTypes[outputs[1]]);
    }

    [Theory]
    [InlineData("GlobalAveragePool")]
    [InlineData("GlobalMaxPool")]
    public void GlobalPoolsKeepBatchAndChannels(string op)
    {
        var b = new GraphBuilder();
        var y = b.Add(op, [b.Input("x", 3, 7, 5, 9)]);
        Assert.Equal([3, 7, 1, 1], ShapeInference.Run(b.Build(y)).KnownShape(y));
    }

    [Fact]
    public void BatchNormalizationTrainingOutputsArePerChannel()
    {
        var b = new GraphBuilder();
        var outputs = b.AddMany("BatchNormalization",
            [b.Input("x", 2, 5, 4, 4), b.Weight("s", 5), b.Weight("b", 5), b.Weight("m", 5), b.Weight("v", 5)], 3);
        var result = ShapeInference.Run(b.Build(outputs[0]));
        Assert.Equal([2, 5, 4, 4], result.KnownShape(outputs[0]));
        Assert.Equal([5], result.KnownShape(outputs[1]));
        Assert.Equal([5], result.KnownShape(outputs[2]));
    }
}
