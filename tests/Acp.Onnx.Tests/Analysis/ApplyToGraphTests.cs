using Acp.Onnx.Analysis;
using Acp.Onnx.Ir;
using static Acp.Onnx.Tests.Analysis.GraphBuilder;

namespace Acp.Onnx.Tests.Analysis;

/// <summary>Writing inferred shapes back as value infos, with symbolic dimensions kept symbolic.</summary>
public sealed class ApplyToGraphTests
{
    private static readonly Dimension Batch = Dimension.Symbolic("batch");

    private static (OnnxModel Model, string Conv, string Flat, string Logits) Classifier()
    {
        var b = new GraphBuilder();
        var x = b.Input("x", [Batch, Dimension.Fixed(3), Dimension.Fixed(4), Dimension.Fixed(4)]);
        var conv = b.Add("Conv", [x, b.Weight("w", 2, 3, 3, 3)], IntsAttr("pads", 1, 1, 1, 1));
        var shape = b.Add("Shape", [conv]);
        var n = b.Add("Unsqueeze", [b.Add("Gather", [shape, b.ConstantInts([], 0)]), b.ConstantInts([1], 0)]);
        var flat = b.Add("Reshape", [conv, b.Add("Concat", [n, b.ConstantInts([1], -1)], IntAttr("axis", 0))]);
        var logits = b.Add("Gemm", [flat, b.Weight("fc", 5, 32)], IntAttr("transB", 1));
        var model = b.Build();
        model.Graph.Outputs.Add(new ValueInfo(logits, ElementType.Float, [Batch, Dimension.Unknown]));
        return (model, conv, flat, logits);
    }

    [Fact]
    public void SymbolicBatchSurvivesTheShapeChain()
    {
        var (model, conv, flat, logits) = Classifier();
        var result = ShapeInference.Run(model);
        Assert.Equal([Batch, Dimension.Fixed(2), Dimension.Fixed(4), Dimension.Fixed(4)], result.SymbolicShapes[conv]);
        Assert.Equal([Batch, Dimension.Fixed(32)], result.SymbolicShapes[flat]);
        Assert.Equal([1, 32], result.KnownShape(flat));
    }

    [Fact]
    public void IntermediateValuesGetValueInfosAndOutputsGainMissingDimensions()
    {
        var (model, conv, flat, logits) = Classifier();
        var result = ShapeInference.Run(model);
        var graph = model.Graph;
        Assert.True(result.ApplyToGraph(graph) > 0);

        var convInfo = Assert.Single(graph.ValueInfos, v => v.Name == conv);
        Assert.Equal(ElementType.Float, convInfo.ElementType);
        Assert.Equal("[batch,2,4,4]", convInfo.ShapeText);
        Assert.Equal("[batch,32]", graph.ValueInfos.Single(v => v.Name == flat).ShapeText);
        Assert.Equal("[batch,5]", graph.Outputs.Single().ShapeText);
        Assert.DoesNotContain(graph.ValueInfos, v => v.Name == logits || v.Name == "x" || v.Name == "w");
        Assert.Equal(0, result.ApplyToGraph(graph));

        var reloaded = OnnxModel.FromBytes(model.ToBytes());
        Assert.Equal("[batch,2,4,4]", reloaded.Graph.ValueInfos.Single(v => v.Name == conv).ShapeText);
    }

    [Fact]
    public void StaleValueInfosAreReplaced()
    {
        var (model, conv, _, _) = Classifier();
        model.Graph.ValueInfos.Add(new ValueInfo(conv, ElementType.Float, [Dimension.Fixed(9)]));
        ShapeInference.Run(model).ApplyToGraph(model.Graph);
        Assert.Equal("[batch,2,4,4]", Assert.Single(model.Graph.ValueInfos, v => v.Name == conv).ShapeText);
    }

    [Fact]
    public void FixedBatchFromOverridesIsWrittenAsFixed()
    {
        var (model, conv, _, _) = Classifier();
        var result = ShapeInference.Run(model, new Dictionary<string, long[]> { ["x"] = [4, 3, 4, 4] });
        Assert.Equal([4, 2, 4, 4], result.SymbolicShapes[conv].Select(d => d.Value!.Value));
    }

    [Fact]
    public void DimensionsDerivedFromASymbolAreUnknown()
    {
        var b = new GraphBuilder();
        var x = b.Input("x", [Batch, Dimension.Fixed(6)]);
        var y = b.Add("Reshape", [x, b.Ints("shape", -1, 3)]);
        var result = ShapeInference.Run(b.Build(y));
        Assert.Equal([2, 3], result.KnownShape(y));
        Assert.Equal([Dimension.Unknown, Dimension.Fixed(3)], result.SymbolicShapes[y]);
    }
}
