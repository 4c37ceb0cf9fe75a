using Acp.Onnx.Analysis;
using Acp.Onnx.Ir;
using static Acp.Onnx.Tests.Analysis.GraphBuilder;

namespace Acp.Onnx.Tests.Analysis;

/// <summary>The parameter and MAC convention of <see cref="ModelCost"/>, on hand-built graphs.</summary>
public sealed class ModelCostTests
{
    private static ModelCost Cost(OnnxModel model, IReadOnlyDictionary<string, long[]>? inputs = null) =>
        ModelCost.Compute(model, ShapeInference.Run(model, inputs));

    [Fact]
    public void ConvCountsOutputElementsTimesChannelsPerGroupTimesKernel()
    {
        var b = new GraphBuilder();
        var y = b.Add("Conv", [b.Input("x", 2, 8, 10, 10), b.Weight("w", 16, 2, 3, 3), b.Weight("b", 16)], IntAttr("group", 4));
        var cost = Cost(b.Build(y));
        var conv = Assert.Single(cost.Nodes);
        Assert.Equal(2L * 16 * 8 * 8 * 2 * 3 * 3, conv.Macs);
        Assert.Equal(16 * 2 * 3 * 3 + 16, conv.Params);
        Assert.Equal(16, conv.OutputChannels);
        Assert.Equal([2L, 16, 8, 8], conv.OutputShape!);
        Assert.Equal(conv.Macs, cost.TotalMacs);
        Assert.Equal(0, cost.OtherInitializerElements);
    }

    [Fact]
    public void ConvTransposeCountsInputElementsTimesOutputChannelsPerGroupTimesKernel()
    {
        var b = new GraphBuilder();
        var y = b.Add("ConvTranspose", [b.Input("x", 1, 4, 8, 8), b.Weight("w", 4, 3, 2, 2)], IntsAttr("strides", 2, 2));
        var cost = Cost(b.Build(y));
        Assert.Equal(4L * 8 * 8 * 3 * 2 * 2, cost.TotalMacs);
        Assert.Equal(3, cost.Nodes[0].OutputChannels);
    }

    [Fact]
    public void GemmAndMatMulCountMTimesKTimesN()
    {
        var b = new GraphBuilder();
        var h = b.Add("Gemm", [b.Input("x", 3, 8), b.Weight("w1", 16, 8), b.Weight("b1", 16)], IntAttr("transB", 1));
        var y = b.Add("MatMul", [b.Add("Reshape", [h, b.Ints("s", 3, 2, 8)]), b.Weight("w2", 8, 5)]);
        var cost = Cost(b.Build(y));
        Assert.Equal(3L * 8 * 16 + 3 * 2 * 8 * 5, cost.TotalMacs);
        Assert.Equal(16 * 8 + 16 + 8 * 5, cost.TotalParams);
        Assert.Equal(16, cost.Nodes[0].OutputChannels);
        Assert.Equal(5, cost.Nodes[^1].OutputChannels);
    }

    [Fact]
    public void BatchedMatMulMultipliesBroadcastBatchDimensions()
    {
        var b = new GraphBuilder();
        var y = b.Add("MatMul", [b.Input("a", 2, 1, 3, 4), b.Input("c", 5, 4, 6)]);
        Assert.Equal(2L * 5 * 3 * 4 * 6, Cost(b.Build(y)).TotalMacs);
    }

    [Fact]
    public void MacsScaleWithTheBatch()
    {
        var b = new GraphBuilder();
        var x = b.Input("x", [Dimension.Symbolic("n"), Dimension.Fixed(3), Dimension.Fixed(8), Dimension.Fixed(8)]);
        var y = b.Add("Conv", [x, b.Weight("w", 4, 3, 3, 3)]);
        var model = b.Build(y);
        Assert.Equal(4 * Cost(model).TotalMacs, Cost(model, new Dictionary<string, long[]> { ["x"] = [4, 3, 8, 8] }).TotalMacs);
    }

    [Fact]
    public void BatchNormCountsScaleAndBiasButNotStatistics()
    {
        var b = new GraphBuilder();
        var y = b.Add("BatchNormalization", [b.Input("x", 1, 6, 4, 4), b.Weight("s", 6), b.Weight("b", 6), b.Weight("m", 6), b.Weight("v", 6)]);
        var cost = Cost(b.Build(y));
        Assert.Equal(12, cost.TotalParams);
        Assert.Equal(12, cost.OtherInitializerElements);
        Assert.Equal(0, cost.TotalMacs);
    }

    [Fact]
    public void LearnedScalesInArithmeticCountButScalarsAndNonLearnedInputsDoNot()
    {
        var b = new GraphBuilder();
        var x = b.Input("x", 1, 6, 4, 4);
        var scaled = b.Add("Mul", [x, b.Weight("gamma", 6, 1, 1)]);
        var shifted = b.Add("Add", [scaled, b.Weight("half", 1)]);
        var clipped = b.Add("Clip", [shifted, b.Weight("lo", 1), b.Weight("hi", 1)]);
        var slope = b.Add("PRelu", [clipped, b.Weight("slope", 6, 1, 1)]);
        var y = b.Add("Reshape", [slope, b.Ints("shape", 1, -1)]);
        var cost = Cost(b.Build(y));
        Assert.Equal(12, cost.TotalParams);
        Assert.Equal(3, cost.OtherInitializerElements);
        Assert.Equal([6, 0, 0, 6, 0], cost.Nodes.Select(n => n.Params));
    }

    [Fact]
    public void SharedInitializerCountsOnceForItsFirstConsumer()
    {
        var b = new GraphBuilder();
        var w = b.Weight("w", 3, 3, 1, 1);
        var y = b.Add("Conv", [b.Input("x", 1, 3, 4, 4), w]);
        var z = b.Add("Conv", [y, w]);
        var cost = Cost(b.Build(z));
        Assert.Equal([9, 0], cost.Nodes.Select(n => n.Params));
        Assert.Equal(2L * 3 * 16 * 3, cost.TotalMacs);
    }

    [Fact]
    public void ParametersAreFoundThroughIdentityAndConstantNodes()
    {
        var b = new GraphBuilder();
        var bias = b.Add("Identity", [b.Weight("b", 4)]);
        var weight = b.Add("Constant", [], NodeAttribute.FromTensor("value", OnnxTensor.FromFloats("", [4, 3, 1, 1], new float[12])));
        var y = b.Add("Conv", [b.Input("x", 1, 3, 4, 4), weight, bias]);
        Assert.Equal(16, Cost(b.Build(y)).TotalParams);
    }

    [Fact]
    public void UnknownShapesLeaveMacsUnknownButParamsCounted()
    {
        var b = new GraphBuilder();
        var model = b.Build();
        model.Graph.Inputs.Add(new ValueInfo("x", ElementType.Float, null));
        model.Graph.Initializers.Add(OnnxTensor.FromFloats("w", [2, 3, 1, 1], new float[6]));
        model.Graph.Nodes.Add(new Node("conv", "Conv", ["x", "w"], ["y"]));
        var cost = Cost(model);
        Assert.Null(cost.Nodes[0].Macs);
        Assert.Equal(1, cost.NodesWithUnknownMacs);
        Assert.Equal(6, cost.TotalParams);
    }
}
