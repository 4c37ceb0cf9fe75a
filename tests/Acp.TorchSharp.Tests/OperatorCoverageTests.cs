using Acp.Engine.Execution;
using Acp.Engine.Tests.Networks;
using Acp.Onnx.Ir;
using Acp.Onnx.Tests.Support;
using static TorchSharp.torch;

namespace Acp.TorchSharp.Tests;

/// <summary>
/// The operators no fixture uses (strided SAME_UPPER and dilated depthwise convolution, LeakyRelu, HardSigmoid,
/// HardSwish, Sub, Div, Tanh, Sigmoid, Transpose, Slice, Pad, Dropout, Gemm with alpha/beta, Softmax) in one graph,
/// against ONNX Runtime and the engine, forward and backward.
/// </summary>
public sealed class OperatorCoverageTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("acp-ops-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static OnnxModel Model()
    {
        var random = new Random(5);
        var graph = new Graph { Name = "coverage" };
        graph.Inputs.Add(new ValueInfo("input", ElementType.Float, [Dimension.Symbolic("batch"), Dimension.Fixed(4), Dimension.Fixed(7), Dimension.Fixed(7)]));
        graph.Outputs.Add(new ValueInfo("output", ElementType.Float, [Dimension.Symbolic("batch"), Dimension.Fixed(10)]));
        graph.Initializers.Add(TinyModels.RandomFloats("conv.w", [6, 4, 3, 3], random));
        graph.Initializers.Add(TinyModels.RandomFloats("conv.b", [6], random));
        graph.Initializers.Add(TinyModels.RandomFloats("dw.w", [6, 1, 3, 3], random));
        graph.Initializers.Add(TinyModels.RandomFloats("shift", [1, 6, 1, 1], random));
        graph.Initializers.Add(OnnxTensor.FromFloats("two", [], [2f]));
        graph.Initializers.Add(OnnxTensor.FromInt64s("starts", [1], [1]));
        graph.Initializers.Add(OnnxTensor.FromInt64s("ends", [1], [4]));
        graph.Initializers.Add(OnnxTensor.FromInt64s("axes", [1], [3]));
        graph.Initializers.Add(OnnxTensor.FromInt64s("pads", [8], [0, 0, 1, 0, 0, 0, 0, 1]));
        graph.Initializers.Add(OnnxTensor.FromFloats("pad_value", [], [0.5f]));
        graph.Initializers.Add(OnnxTensor.FromFloats("ratio", [], [0f]));
        graph.Initializers.Add(TinyModels.RandomFloats("fc.w", [120, 10], random));
        graph.Initializers.Add(TinyModels.RandomFloats("fc.b", [10], random));
        graph.Nodes.Add(new Node("conv", "Conv", ["input", "conv.w", "conv.b"], ["a"],
            [NodeAttribute.FromInts("kernel_shape", [3, 3]), NodeAttribute.FromInts("strides", [2, 2]), NodeAttribute.FromString("auto_pad", "SAME_UPPER")]));
        graph.Nodes.Add(new Node("leaky", "LeakyRelu", ["a"], ["b"], [NodeAttribute.FromFloat("alpha", 0.2f)]));
        graph.Nodes.Add(new Node("hsig", "HardSigmoid", ["a"], ["c"], [NodeAttribute.FromFloat("alpha", 0.3f), NodeAttribute.FromFloat("beta", 0.4f)]));
        graph.Nodes.Add(new Node("mul", "Mul", ["b", "c"], ["d"]));
        graph.Nodes.Add(new Node("hswish", "HardSwish", ["d"], ["e"]));
        graph.Nodes.Add(new Node("sub", "Sub", ["e", "shift"], ["f"]));
        graph.Nodes.Add(new Node("div", "Div", ["f", "two"], ["g"]));
        graph.Nodes.Add(new Node("tanh", "Tanh", ["g"], ["h"]));
        graph.Nodes.Add(new Node("sigmoid", "Sigmoid", ["h"], ["i"]));
        graph.Nodes.Add(new Node("dw", "Conv", ["i", "dw.w"], ["j"],
            [NodeAttribute.FromInts("kernel_shape", [3, 3]), NodeAttribute.FromInt("group", 6), NodeAttribute.FromInts("dilations", [2, 2]), NodeAttribute.FromInts("pads", [2, 2, 2, 2])]));
        graph.Nodes.Add(new Node("transpose", "Transpose", ["j"], ["k"], [NodeAttribute.FromInts("perm", [0, 1, 3, 2])]));
        graph.Nodes.Add(new Node("slice", "Slice", ["k", "starts", "ends", "axes"], ["l"]));
        graph.Nodes.Add(new Node("pad", "Pad", ["l", "pads", "pad_value"], ["m"]));
        graph.Nodes.Add(new Node("dropout", "Dropout", ["m", "ratio"], ["n"]));
        graph.Nodes.Add(new Node("flatten", "Flatten", ["n"], ["o"]));
        graph.Nodes.Add(new Node("fc", "Gemm", ["o", "fc.w", "fc.b"], ["p"], [NodeAttribute.FromFloat("alpha", 0.5f), NodeAttribute.FromFloat("beta", 2f)]));
        graph.Nodes.Add(new Node("softmax", "Softmax", ["p"], ["output"], [NodeAttribute.FromInt("axis", -1)]));
        var model = new OnnxModel(graph) { IrVersion = 8, ProducerName = "acp-tests" };
        model.OpsetImports.Add(new OpsetImport("", 14)); // HardSwish is opset 14
        return model;
    }

    [Fact]
    public void Forward_matches_onnx_runtime_and_the_engine_and_backward_matches_the_engine()
    {
        var model = Model();
        var path = Path.Combine(_folder, "coverage.onnx");
        model.Save(path);
        long[] shape = [3, 4, 7, 7];
        var input = ForwardTests.RandomInput(shape, 9).Select(v => v * 3).ToArray();

        using var module = OnnxModule.Import(model);
        module.eval();
        using var scope = NewDisposeScope();
        var output = ForwardTests.Floats(module.forward(TorchTensors.FromFloats(input, shape)));
        Numerics.AssertClose(ForwardTests.RunOrt(path, model, shape, input), output, 1e-4, "against ONNX Runtime");

        var network = Network.Build(model);
        network.Training = true;
        var engine = network.Forward(shape.Select(d => (int)d).ToArray(), input);
        var weights = ForwardTests.RandomInput([3, 10], 4);
        network.Backward(weights);

        module.train();
        var trained = module.forward(TorchTensors.FromFloats(input, shape).requires_grad_(true));
        Numerics.AssertClose(engine.Data, ForwardTests.Floats(trained), 1e-4, "against the engine");
        (trained * TorchTensors.FromFloats(weights, [3, 10])).sum().backward();
        Assert.Equal(network.Parameters.Select(p => p.Name), module.ParameterNames);
        Assert.Equal(["conv.w", "conv.b", "shift", "dw.w", "fc.w", "fc.b"], module.ParameterNames);
        foreach (var parameter in network.Parameters)
        {
            Numerics.AssertCloseL2(parameter.Gradient.Data, ForwardTests.Floats(module.Parameter(parameter.Name).grad!), 1e-4, $"gradient of {parameter.Name}");
        }
    }
}
