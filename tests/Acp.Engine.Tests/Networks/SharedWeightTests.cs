using Acp.Engine.Execution;
using Acp.Engine.Kernels;
using Acp.Engine.Training;
using Acp.Onnx.Ir;
using Acp.Onnx.Tests.Support;

namespace Acp.Engine.Tests.Networks;

/// <summary>
/// torch.onnx writes distinct parameters that hold equal values as Identity nodes over one initializer
/// (edge_identity_shared_bias: conv2's bias is Identity(conv1's bias)). Each must train as its own parameter.
/// </summary>
public sealed class SharedWeightTests
{
    [Fact]
    public void Identity_over_a_shared_initializer_trains_as_its_own_parameter_and_is_written_back()
    {
        var model = OnnxModel.Load(Fixtures.PathOf("edge_identity_shared_bias.onnx"));
        var identity = model.Graph.Nodes.Single(n => n.OpType == "Identity");
        var shared = identity.Inputs[0];
        var network = Network.Build(model);

        Assert.Contains(network.Parameters, p => p.Name == identity.Outputs[0]);
        Assert.Contains(network.Parameters, p => p.Name == shared);

        network.Training = true;
        var random = new Random(1);
        var input = Enumerable.Range(0, 3 * 8 * 8).Select(_ => (float)random.NextDouble()).ToArray();
        var output = network.Forward([1, 3, 8, 8], input);
        var gradient = Enumerable.Range(0, output.Length).Select(i => (float)Math.Sin(i)).ToArray();
        network.Backward(gradient);
        new SgdOptimizer(network.Parameters, new SgdOptions { Momentum = 0, WeightDecay = 0 }).Step(0.5f);
        var first = network.Parameters.Single(p => p.Name == shared).Value.Data;
        var second = network.Parameters.Single(p => p.Name == identity.Outputs[0]).Value.Data;
        Assert.NotEqual(first, second);

        var trained = model.Clone();
        network.WriteWeightsTo(trained);
        Assert.DoesNotContain(trained.Graph.Nodes, n => n.OpType == "Identity");
        Assert.Equal(second, trained.Graph.Initializers[identity.Outputs[0]].Floats);

        // The written model runs in ONNX Runtime exactly like the trained network.
        network.Training = false;
        var expected = network.Forward([1, 3, 8, 8], input).Data.ToArray();
        using var session = OrtRun.Session(trained.ToBytes());
        var actual = session.First(network.InputName, input, 1, 3, 8, 8).Data;
        Numerics.AssertClose(expected, actual, 1e-5, "ORT on the written-back model");
    }
}
