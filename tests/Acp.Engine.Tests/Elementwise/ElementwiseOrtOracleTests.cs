using Acp.Engine.Kernels;
using Acp.Onnx.Ir;
using Acp.Onnx.Tests.Support;
using static Acp.Engine.Tests.Elementwise.ElementwiseTestSupport;
using OnnxGraph = Acp.Onnx.Ir.Graph;

namespace Acp.Engine.Tests.Elementwise;

/// <summary>
/// ONNX Runtime as the forward oracle: each test builds a one-node model with the repository's IR (opset 14, IR 8),
/// runs it, and compares the float kernel's output. Differences come only from the runtime's own rounding and its
/// approximations of exp/tanh, hence tolerances of a few float ulps.
/// </summary>
public class ElementwiseOrtOracleTests
{
    private static float[] RunOrt(string opType, (string Name, int[] Shape, float[] Data)[] inputs,
        IEnumerable<NodeAttribute>? attributes = null, OnnxTensor[]? constants = null, string[]? nodeInputs = null)
    {
        var graph = new OnnxGraph { Name = "oracle" };
        foreach (var (name, shape, _) in inputs)
        {
            graph.Inputs.Add(new ValueInfo(name, ElementType.Float, [.. shape.Select(d => Dimension.Fixed(d))]));
        }

        foreach (var constant in constants ?? [])
        {
            graph.Initializers.Add(constant);
        }

        graph.Outputs.Add(new ValueInfo("Y", ElementType.Float, null));
        graph.Nodes.Add(new Node("node", opType, nodeInputs ?? [.. inputs.Select(i => i.Name)], ["Y"], attributes));
        var model = new OnnxModel(graph) { IrVersion = 8, ProducerName = "acp-engine-tests" };
        model.OpsetImports.Add(new("", 14));

        using var session = OrtRun.Session(model.ToBytes());
        return session.RunFloat([.. inputs.Select(i => (i.Name, i.Data[..Count(i.Shape)], i.Shape.Select(d => (long)d).ToArray()))]).Named("Y").Data;
    }

    private static double[] AsDouble(float[] x) => [.. x.Select(v => (double)v)];

    [Theory]
    [InlineData(1, 1, 1, 1)]
    [InlineData(2, 3, 5, 7)]
    [InlineData(4, 32, 14, 14)]
    public void BatchNormalization_inference_matches_onnx_runtime(int n, int c, int h, int w)
    {
        var rng = new Random(n * c * h * w);
        var total = n * c * h * w;
        var x = RandomFloats(rng, total, -3, 3);
        var scale = RandomFloats(rng, c, 0.5, 2);
        var bias = RandomFloats(rng, c);
        var mean = RandomFloats(rng, c);
        var variance = RandomFloats(rng, c, 0.05, 3);
        const float eps = 1e-3f;
        var y = new float[total];

        BatchNorm.Inference(n, c, h * w, x, scale, bias, mean, variance, eps, y);

        var expected = RunOrt("BatchNormalization",
            [("X", [n, c, h, w], x), ("scale", [c], scale), ("B", [c], bias), ("mean", [c], mean), ("var", [c], variance)],
            [NodeAttribute.FromFloat("epsilon", eps)]);
        AssertClose(AsDouble(expected), y, 1e-5, 1e-6, "BatchNormalization");
    }

    public static TheoryData<Act> AllActivations() => new(Enum.GetValues<Act>());

    [Theory]
    [MemberData(nameof(AllActivations))]
    public void Activations_match_onnx_runtime(Act act)
    {
        int[] shape = [3, 4, 5, 7];
        var count = Count(shape);
        var rng = new Random(40 + (int)act);
        var x = RandomFloats(rng, count, -8, 8);
        // The exact kinks and the saturation regions, too.
        float[] specials = [0, -3, 3, -2.5f, 2.5f, -0.5f, 1.5f, 6, -6, 20, -20];
        specials.CopyTo(x, 0);
        var y = new float[count];

        ActivationTests.Forward(act, count, x, y);

        var attributes = new List<NodeAttribute>();
        OnnxTensor[]? constants = null;
        string[]? nodeInputs = null;
        var opType = act.ToString();
        switch (act)
        {
            case Act.LeakyRelu:
                attributes.Add(NodeAttribute.FromFloat("alpha", (float)ReferenceActivations.Alpha));
                break;
            case Act.HardSigmoid:
                attributes.Add(NodeAttribute.FromFloat("alpha", (float)ReferenceActivations.HsAlpha));
                attributes.Add(NodeAttribute.FromFloat("beta", (float)ReferenceActivations.HsBeta));
                break;
            case Act.Clip:
                // Since opset 11 Clip takes its bounds as (optional) inputs rather than attributes.
                constants =
                [
                    OnnxTensor.FromFloats("min", [], [(float)ReferenceActivations.ClipMin]),
                    OnnxTensor.FromFloats("max", [], [(float)ReferenceActivations.ClipMax]),
                ];
                nodeInputs = ["X", "min", "max"];
                break;
        }

        var expected = RunOrt(opType, [("X", shape, x)], attributes, constants, nodeInputs);
        AssertClose(AsDouble(expected), y, 2e-6, 2e-7, opType);
    }

    [Fact]
    public void HardSigmoid_defaults_match_onnx_runtime()
    {
        var rng = new Random(50);
        var x = RandomFloats(rng, 100, -5, 5);
        var y = new float[100];

        Activations.HardSigmoidForward(100, x, y);

        AssertClose(AsDouble(RunOrt("HardSigmoid", [("X", [100], x)])), y, 1e-6, 1e-7, "HardSigmoid");
    }

    public static TheoryData<BinaryOp, int> BroadcastCases()
    {
        var data = new TheoryData<BinaryOp, int>();
        foreach (var op in Enum.GetValues<BinaryOp>())
        {
            for (var k = 0; k < BroadcastTests.ShapePairs.Length; k++)
            {
                data.Add(op, k);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(BroadcastCases))]
    public void Broadcasting_ops_match_onnx_runtime(BinaryOp op, int pair)
    {
        var (shapeA, shapeB) = (BroadcastTests.ShapePairs[pair][0], BroadcastTests.ShapePairs[pair][1]);
        var shapeY = Broadcast.ResultShape(shapeA, shapeB);
        var rng = new Random(60 + pair);
        var a = RandomFloats(rng, Count(shapeA));
        var b = RandomFloats(rng, Count(shapeB), 0.5, 2);
        var y = new float[Count(shapeY)];

        Broadcast.Forward(op, shapeA, a, shapeB, b, shapeY, y);

        var expected = RunOrt(op.ToString(), [("A", shapeA, a), ("B", shapeB, b)]);
        // Add, Sub, Mul and Div are correctly rounded in both implementations.
        Assert.Equal(expected, y);
    }

    [Theory]
    [InlineData(1, 1, 1.0)]
    [InlineData(4, 10, 5.0)]
    [InlineData(16, 1000, 5.0)]
    [InlineData(3, 7, 500.0)]
    public void Softmax_matches_onnx_runtime(int n, int classes, double range)
    {
        var rng = new Random(n + classes);
        var x = RandomFloats(rng, n * classes, -range, range);
        var y = new float[n * classes];

        Losses.Softmax(n, classes, x, y);

        var expected = RunOrt("Softmax", [("X", [n, classes], x)], [NodeAttribute.FromInt("axis", 1)]);
        AssertClose(AsDouble(expected), y, 1e-5, 1e-7, "Softmax");
    }
}
