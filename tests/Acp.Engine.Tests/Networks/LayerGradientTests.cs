using Acp.Engine.Execution;
using Acp.Onnx.Ir;

namespace Acp.Engine.Tests.Networks;

/// <summary>
/// The executor's own layers (data movement, matrix products, softmax, and the wiring around the kernels) checked by
/// central finite differences: each graph is x → Conv1×1(W) → op under test → y, with loss Σ r·y for fixed random r;
/// d(loss)/dW from backward must match the difference quotient, which exercises the op's backward end to end.
/// </summary>
public sealed class LayerGradientTests
{
    private static OnnxModel Model(int channels, int size, Func<Graph, string, string> op)
    {
        var graph = new Graph();
        graph.Inputs.Add(new ValueInfo("x", ElementType.Float, [Dimension.Fixed(2), Dimension.Fixed(3), Dimension.Fixed(size), Dimension.Fixed(size)]));
        var random = new Random(3);
        var w = new float[channels * 3];
        for (var i = 0; i < w.Length; i++) w[i] = (float)(random.NextDouble() - 0.5);
        graph.Initializers.Add(OnnxTensor.FromFloats("W", [channels, 3, 1, 1], w));
        graph.Nodes.Add(new Node("conv", "Conv", ["x", "W"], ["h"]));
        var y = op(graph, "h");
        graph.Outputs.Add(new ValueInfo(y, ElementType.Float, null));
        var model = new OnnxModel(graph);
        model.OpsetImports.Add(new OpsetImport("", 13));
        return model;
    }

    private static string Add(Graph g, string op, string[] inputs, params NodeAttribute[] attributes)
    {
        var output = $"{op}{g.Nodes.Count}";
        g.Nodes.Add(new Node(output, op, inputs, [output], attributes));
        return output;
    }

    private static string Ints(Graph g, string name, params long[] values)
    {
        g.Initializers.Add(OnnxTensor.FromInt64s(name, [values.Length], values));
        return name;
    }

    public static TheoryData<string> Cases => new(CaseTable.Keys);

    private static readonly Dictionary<string, (int Channels, int Size, Func<Graph, string, string> Op)> CaseTable = new()
    {
        ["concat-self"] = (4, 3, (g, h) => Add(g, "Concat", [h, h, h], NodeAttribute.FromInt("axis", 1))),
        ["split"] = (5, 3, (g, h) =>
        {
            g.Nodes.Add(new Node("split", "Split", [h, Ints(g, "sizes", 2, 3)], ["s0", "s1"], [NodeAttribute.FromInt("axis", 1)]));
            return Add(g, "Concat", [Add(g, "Mul", ["s0", "s0"]), "s1"], NodeAttribute.FromInt("axis", 1));
        }),
        ["slice-step"] = (6, 4, (g, h) => Add(g, "Slice", [h, Ints(g, "st", 1, 3), Ints(g, "en", 6, 0), Ints(g, "ax", 1, 2), Ints(g, "sp", 2, -2)])),
        ["pad-reflect"] = (2, 3, (g, h) => Add(g, "Pad", [h, Ints(g, "p", 0, 0, 1, 2, 0, 0, 2, 1)], NodeAttribute.FromString("mode", "reflect"))),
        ["pad-edge"] = (2, 3, (g, h) => Add(g, "Pad", [h, Ints(g, "p", 0, 0, 1, 0, 0, 0, 0, 2)], NodeAttribute.FromString("mode", "edge"))),
        ["transpose"] = (3, 3, (g, h) => Add(g, "Transpose", [h], NodeAttribute.FromInts("perm", [0, 2, 3, 1]))),
        ["softmax"] = (4, 2, (g, h) => Add(g, "Softmax", [Add(g, "Flatten", [h])])),
        ["gemm-transA"] = (2, 2, (g, h) =>
        {
            g.Initializers.Add(OnnxTensor.FromFloats("B", [8, 1], [0.5f, -1, 2, 0.25f, 1, 1, -0.5f, 3]));
            g.Initializers.Add(OnnxTensor.FromFloats("C", [1], [0.1f]));
            var flat = Add(g, "Reshape", [h, Ints(g, "shape", 2, 8)]);
            var t = Add(g, "Transpose", [flat], NodeAttribute.FromInts("perm", [1, 0]));
            return Add(g, "Gemm", [t, "B", "C"], NodeAttribute.FromInt("transA", 1), NodeAttribute.FromFloat("alpha", 0.5f), NodeAttribute.FromFloat("beta", 2f));
        }),
        ["matmul-batched"] = (3, 2, (g, h) =>
        {
            g.Initializers.Add(OnnxTensor.FromFloats("M", [2, 5], [1, 2, 3, 4, 5, -1, -2, 0.5f, 0.25f, 0]));
            return Add(g, "MatMul", [h, "M"]);
        }),
        ["maxpool-ceil"] = (2, 5, (g, h) => Add(g, "MaxPool", [h], NodeAttribute.FromInts("kernel_shape", [2, 2]), NodeAttribute.FromInts("strides", [2, 2]), NodeAttribute.FromInt("ceil_mode", 1))),
        ["avgpool-pad"] = (2, 4, (g, h) => Add(g, "AveragePool", [h], NodeAttribute.FromInts("kernel_shape", [3, 3]), NodeAttribute.FromInts("pads", [1, 1, 1, 1]))),
        ["gap-flatten"] = (3, 3, (g, h) => Add(g, "Flatten", [Add(g, "GlobalAveragePool", [h])])),
        ["residual-mul-self"] = (2, 2, (g, h) => Add(g, "Add", [Add(g, "Mul", [h, h]), h])),
        ["sigmoid-broadcast-div"] = (3, 2, (g, h) =>
        {
            g.Initializers.Add(OnnxTensor.FromFloats("d", [3, 1, 1], [2f, 3f, 4f]));
            return Add(g, "Div", [Add(g, "Sigmoid", [h]), "d"]);
        }),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Backward_matches_central_differences(string name)
    {
        var (channels, size, op) = CaseTable[name];
        var network = Network.Build(Model(channels, size, op));
        var random = new Random(11);
        var input = Enumerable.Range(0, 2 * 3 * size * size).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        int[] shape = [2, 3, size, size];
        var output = network.Forward(shape, input);
        var r = Enumerable.Range(0, output.Length).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        double Loss()
        {
            var y = network.Forward(shape, input).Data;
            var sum = 0.0;
            for (var i = 0; i < y.Length; i++) sum += (double)r[i] * y[i];
            return sum;
        }

        Loss();
        network.Backward(r);
        var weight = network.Parameters.Single(p => p.Name == "W");
        var analytic = weight.Gradient.Data.ToArray();

        const float eps = 1e-2f;
        for (var i = 0; i < weight.Value.Length; i++)
        {
            var saved = weight.Value.Data[i];
            weight.Value.Data[i] = saved + eps;
            var plus = Loss();
            weight.Value.Data[i] = saved - eps;
            var minus = Loss();
            weight.Value.Data[i] = saved;
            var numeric = (plus - minus) / (2 * eps);
            Assert.True(Math.Abs(numeric - analytic[i]) <= 2e-2 * Math.Max(1, Math.Abs(numeric)),
                $"{name}: dL/dW[{i}] is {analytic[i]} by backward, {numeric} by central differences");
        }
    }
}
