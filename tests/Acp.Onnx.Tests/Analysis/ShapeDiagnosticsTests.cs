using Acp.Onnx.Analysis;
using Acp.Onnx.Ir;
using static Acp.Onnx.Tests.Analysis.GraphBuilder;

namespace Acp.Onnx.Tests.Analysis;

/// <summary>Shape inference never throws on odd models: it reports, and leaves what depends on the problem unknown.</summary>
public sealed class ShapeDiagnosticsTests
{
    [Theory]
    [InlineData("Mystery", "com.acp.test")]
    [InlineData("NotAnOnnxOperator", "")]
    public void UnknownOperatorIsReportedOnceAndItsDependentsAreUnknown(string op, string domain)
    {
        var b = new GraphBuilder();
        var y = b.Add("Conv", [b.Input("x", 1, 3, 8, 8), b.Weight("w", 4, 3, 3, 3)]);
        var model = b.Build();
        model.Graph.Nodes.Add(new Node("odd", op, [y], ["m"], domain: domain));
        model.Graph.Nodes.Add(new Node("relu", "Relu", ["m"], ["r"]));
        model.Graph.Nodes.Add(new Node("conv2", "Conv", ["r", "w"], ["out"]));
        model.Graph.Outputs.Add(new ValueInfo("out", ElementType.Float, null));

        var result = ShapeInference.Run(model);

        Assert.Equal([1, 4, 6, 6], result.KnownShape(y));
        Assert.Null(result.ShapeOf("m"));
        Assert.Null(result.ShapeOf("out"));
        Assert.Equal(2, result.Diagnostics.Count);
        Assert.Same(model.Graph.Nodes[1], result.Diagnostics[0].Node);
        Assert.StartsWith($"odd ({(domain.Length > 0 ? domain + "::" : "")}{op}): ", result.Diagnostics[0].ToString());
        Assert.Null(result.Diagnostics[1].Node);
        Assert.Contains("2 more node(s)", result.Diagnostics[1].Message);
    }

    [Fact]
    public void ConvWeightChannelMismatchIsReportedWithTheNumbers()
    {
        var b = new GraphBuilder();
        var y = b.Add("Conv", [b.Input("x", 1, 3, 8, 8), b.Weight("w", 8, 4, 3, 3)]);
        var result = ShapeInference.Run(b.Build(y));
        Assert.Null(result.ShapeOf(y));
        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal("the input has 3 channels but the weight [8,4,3,3] with group 1 expects 4 (4 per group)", diagnostic.Message);
        Assert.Equal("Conv_0 (Conv): " + diagnostic.Message, diagnostic.ToString());
    }

    [Fact]
    public void GroupedConvMismatchNamesTheGroup()
    {
        var b = new GraphBuilder();
        var y = b.Add("Conv", [b.Input("x", 1, 8, 8, 8), b.Weight("w", 8, 2, 3, 3)], IntAttr("group", 2));
        Assert.Contains("with group 2 expects 4 (2 per group)", Assert.Single(ShapeInference.Run(b.Build(y)).Diagnostics).Message);
    }

    [Fact]
    public void AttributeOfTheWrongKindIsReportedNotThrown()
    {
        var b = new GraphBuilder();
        var y = b.Add("Conv", [b.Input("x", 1, 3, 8, 8), b.Weight("w", 4, 3, 3, 3)], NodeAttribute.FromFloat("group", 1f));
        var diagnostic = Assert.Single(ShapeInference.Run(b.Build(y)).Diagnostics);
        Assert.Contains("malformed", diagnostic.Message);
    }

    [Fact]
    public void ShapeTargetComputedAtRunTimeIsReported()
    {
        var b = new GraphBuilder();
        var y = b.Add("Reshape", [b.Input("x", 2, 6), b.Input("target", 2)]);
        var message = Assert.Single(ShapeInference.Run(b.Build(y)).Diagnostics).Message;
        Assert.Contains("target shape (input 'target') is computed at run time", message);
    }

    [Fact]
    public void InputWithoutADeclaredShapeIsReported()
    {
        var b = new GraphBuilder();
        var model = b.Build();
        model.Graph.Inputs.Add(new ValueInfo("x", ElementType.Float, null));
        model.Graph.Nodes.Add(new Node("relu", "Relu", ["x"], ["y"]));
        var result = ShapeInference.Run(model);
        Assert.Null(result.ShapeOf("y"));
        Assert.Contains("'x' declares no shape", result.Diagnostics[0].Message);
    }

    [Fact]
    public void DanglingInputIsReported()
    {
        var b = new GraphBuilder();
        var y = b.Add("Relu", ["nowhere"]);
        var result = ShapeInference.Run(b.Build(y));
        Assert.Contains("'nowhere' has no known shape", Assert.Single(result.Diagnostics).Message);
    }

    [Fact]
    public void CycleIsReported()
    {
        var b = new GraphBuilder();
        var model = b.Build();
        model.Graph.Nodes.Add(new Node("a", "Relu", ["q"], ["p"]));
        model.Graph.Nodes.Add(new Node("b", "Relu", ["p"], ["q"]));
        Assert.Contains("cycle", Assert.Single(ShapeInference.Run(model).Diagnostics).Message);
    }

    [Fact]
    public void ShapeOverridesForUnknownInputsAreReported()
    {
        var b = new GraphBuilder();
        var y = b.Add("Relu", [b.Input("x", 1, 2)]);
        var result = ShapeInference.Run(b.Build(y), new Dictionary<string, long[]> { ["nope"] = [1], ["x"] = [3, 2] });
        Assert.Equal([3, 2], result.KnownShape(y));
        Assert.Contains("'nope'", Assert.Single(result.Diagnostics).Message);
    }
}
