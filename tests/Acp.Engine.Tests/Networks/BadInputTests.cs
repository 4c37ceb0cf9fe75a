using Acp.Engine.Execution;
using Acp.Onnx.Ir;
using Acp.Onnx.Tests.Support;

namespace Acp.Engine.Tests.Networks;

public sealed class BadInputTests
{
    [Fact]
    public void Unsupported_operator_names_the_node_at_build_time()
    {
        var model = OnnxModel.Load(Fixtures.PathOf("edge_unknown_op.noort.onnx"));
        var e = Assert.Throws<EngineException>(() => Network.Build(model));
        Assert.Contains("com.acp.test.Mystery", e.Message);
        Assert.Contains(model.Graph.Nodes.Single(n => n.OpType == "Mystery").DisplayName, e.Message);
    }

    [Fact]
    public void Wrong_channel_count_names_the_shape()
    {
        var network = Network.Build(OnnxModel.Load(Fixtures.PathOf("resnet18.bn.onnx")));
        var e = Assert.Throws<EngineException>(() => network.Forward(new Tensors.Tensor(1, 1, 64, 64)));
        Assert.Contains("[batch,3,64,64]", e.Message);
        Assert.Contains("[1,1,64,64]", e.Message);
    }

    [Fact]
    public void Wrong_rank_is_refused()
    {
        var network = Network.Build(OnnxModel.Load(Fixtures.PathOf("tiny_cnn.onnx")));
        Assert.Throws<EngineException>(() => network.Forward(new Tensors.Tensor(3, 8, 8)));
    }

    [Fact]
    public void Spatial_size_that_breaks_a_later_layer_names_that_layer()
    {
        // The declared input has a symbolic batch only; a 2×2 image cannot reach the Gemm that expects 36 features.
        var network = Network.Build(TinyModels.Cnn());
        var e = Assert.Throws<EngineException>(() => network.Forward(new Tensors.Tensor(1, 3, 6, 7)));
        Assert.Contains("[batch,3,6,6]", e.Message);
    }

    [Fact]
    public void NaN_in_the_data_is_refused_with_its_position()
    {
        var network = Network.Build(TinyModels.Cnn());
        var input = new Tensors.Tensor(2, 3, 6, 6);
        input.Data[17] = float.NaN;
        var e = Assert.Throws<EngineException>(() => network.Forward(input));
        Assert.Contains("NaN at element 17", e.Message);
    }

    [Fact]
    public void NaN_in_a_weight_is_refused_naming_the_initializer()
    {
        var model = TinyModels.Cnn();
        var weights = (float[])model.Graph.Initializers["fc.w"].Floats.Clone();
        weights[3] = float.PositiveInfinity;
        model.Graph.Initializers.Set(OnnxTensor.FromFloats("fc.w", [5, 36], weights));
        var e = Assert.Throws<EngineException>(() => Network.Build(model));
        Assert.Contains("'fc.w'", e.Message);
    }
}
