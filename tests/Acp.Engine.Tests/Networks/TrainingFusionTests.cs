using Acp.Engine.Execution;
using Acp.Engine.Kernels;
using Acp.Engine.Tensors;
using Acp.Onnx.Ir;
using Acp.Onnx.Tests.Support;

namespace Acp.Engine.Tests.Networks;

/// <summary>
/// Training-mode BatchNormalization → Relu and Add → Relu fusions promise the same bits as the unfused nodes (which the PyTorch
/// gradient tests hold to PyTorch): logits, every parameter gradient and the running statistics are compared exactly,
/// with and without captures and masks that must disable or pass through the fusion.
/// </summary>
public sealed class TrainingFusionTests
{
    private const string NormOut = "/layer1/layer1.1/bn1/BatchNormalization_output_0";
    private const string ReluOut = "/layer1/layer1.1/Relu_output_0";
    private const string AddOut = "/layer1/layer1.1/Add_output_0";
    private const string BlockOut = "/layer1/layer1.1/Relu_1_output_0";

    private static Tensor RandomBatch(int n, int seed)
    {
        var random = new Random(seed);
        var t = new Tensor(n, 1, 28, 28);
        for (var i = 0; i < t.Length; i++) t.Data[i] = (float)(random.NextDouble() * 2 - 1);
        return t;
    }

    private sealed record Step(float[] Logits, Dictionary<string, float[]> Gradients, Dictionary<string, float[]> Statistics, float[]? Seen);

    private static Step TrainStep(bool fuse, Action<Network>? setup, string? capture)
    {
        var model = OnnxModel.Load(Fixtures.EnginePathOf("resnet20.onnx"));
        var network = Network.Build(model);
        setup?.Invoke(network);
        network.Training = true;
        network.FuseTrainingLayers = fuse;
        network.Profile = new LayerProfile();
        float[]? seen = null;
        using var hook = capture is null ? null : network.Capture(capture, t => seen = t.Data.ToArray());
        var logits = network.Forward(RandomBatch(6, 1)).Data.ToArray();
        var gradient = new float[logits.Length];
        Losses.SoftmaxCrossEntropy(6, 10, logits, [1, 2, 3, 4, 5, 6], 0f, gradient);
        network.Backward(gradient);

        Assert.Equal(fuse, network.Profile.Entries.Any(e => e.Op == "BatchNormalization+Relu" && !e.Forward));
        Assert.Equal(fuse, network.Profile.Entries.Any(e => e.Op == "Add+Relu" && !e.Forward));
        var written = model.Clone();
        network.WriteWeightsTo(written);
        var statistics = written.Graph.Initializers.Where(t => t.Name.Contains("running", StringComparison.Ordinal)).ToDictionary(t => t.Name, t => t.Floats.ToArray());
        return new Step(logits, network.Parameters.ToDictionary(p => p.Name, p => p.Gradient.Data.ToArray()), statistics, seen);
    }

    private static void AssertSame(Step expected, Step actual)
    {
        Assert.Equal(expected.Logits, actual.Logits);
        foreach (var (name, gradient) in expected.Gradients) Assert.True(gradient.AsSpan().SequenceEqual(actual.Gradients[name]), $"gradient of {name} differs");
        foreach (var (name, values) in expected.Statistics) Assert.True(values.AsSpan().SequenceEqual(actual.Statistics[name]), $"{name} differs");
        Assert.Equal(expected.Seen, actual.Seen);
    }

    [Fact]
    public void Fused_training_step_has_the_same_bits_as_unfused()
    {
        AssertSame(TrainStep(false, null, null), TrainStep(true, null, null));
    }

    [Theory]
    [InlineData(ReluOut)]
    [InlineData(NormOut)]
    [InlineData(AddOut)]
    [InlineData(BlockOut)]
    public void Captured_values_are_the_same(string value)
    {
        var unfused = TrainStep(false, null, value);
        Assert.NotNull(unfused.Seen);
        AssertSame(unfused, TrainStep(true, null, value));
    }

    [Theory]
    [InlineData(ReluOut)]
    [InlineData(NormOut)]
    [InlineData(AddOut)]
    [InlineData(BlockOut)]
    public void Masked_channels_behave_the_same(string value)
    {
        void Mask(Network n) => n.SetChannelMask(value, Enumerable.Range(0, 16).Select(c => c % 4 != 0).ToArray());
        var unfused = TrainStep(false, Mask, null);
        AssertSame(unfused, TrainStep(true, Mask, null));
        Assert.False(unfused.Logits.AsSpan().SequenceEqual(TrainStep(false, null, null).Logits), "the mask had no effect");
    }
}
