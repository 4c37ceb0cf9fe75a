using Acp.Engine.Execution;
using Acp.Onnx.Ir;
using Acp.Onnx.Tests.Support;

namespace Acp.Engine.Tests.Networks;

/// <summary>auto_pad SAME_UPPER / SAME_LOWER / VALID on Conv and pools, with ONNX Runtime as the oracle.</summary>
public sealed class AutoPadTests
{
    [Theory]
    [InlineData("Conv", "SAME_UPPER")]
    [InlineData("Conv", "SAME_LOWER")]
    [InlineData("Conv", "VALID")]
    [InlineData("MaxPool", "SAME_UPPER")]
    [InlineData("AveragePool", "SAME_LOWER")]
    public void Matches_onnx_runtime(string op, string autoPad)
    {
        var graph = new Graph();
        graph.Inputs.Add(new ValueInfo("x", ElementType.Float, [Dimension.Fixed(2), Dimension.Fixed(3), Dimension.Fixed(7), Dimension.Fixed(6)]));
        graph.Outputs.Add(new ValueInfo("y", ElementType.Float, null));
        var attributes = new List<NodeAttribute> { NodeAttribute.FromString("auto_pad", autoPad), NodeAttribute.FromInts("strides", [2, 2]) };
        var inputs = new List<string> { "x" };
        if (op == "Conv")
        {
            graph.Initializers.Add(TinyModels.RandomFloats("w", [4, 3, 2, 3], new Random(2)));
            inputs.Add("w");
        }
        else
        {
            attributes.Add(NodeAttribute.FromInts("kernel_shape", [2, 3]));
        }
        graph.Nodes.Add(new Node("op", op, inputs, ["y"], attributes));
        var model = new OnnxModel(graph);
        model.OpsetImports.Add(new OpsetImport("", 13));
        var random = new Random(5);
        var x = Enumerable.Range(0, 2 * 3 * 7 * 6).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();

        using var session = OrtRun.Session(model.ToBytes());
        var expected = session.First("x", x, 2, 3, 7, 6);
        var actual = Network.Build(model).Forward([2, 3, 7, 6], x);

        Assert.Equal(expected.Shape.Select(d => (int)d), actual.Shape);
        Numerics.AssertClose(expected.Data, actual.Data, 1e-5, $"{op} {autoPad}");
    }
}
