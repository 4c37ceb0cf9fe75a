using Acp.Engine.Execution;
using Acp.Engine.Kernels;
using Acp.Engine.Tensors;
using Acp.Onnx.Ir;
using Acp.Onnx.Tests.Support;

namespace Acp.Engine.Tests.Networks;

/// <summary>
/// A pass runs a layer list planned once per mode, shape and set of hooks: profiling wraps its layers without
/// changing a bit, the plan follows hooks and settings that change between passes, and a backward pass walks the plan
/// of the forward pass it follows.
/// </summary>
public sealed class ExecutionPlanTests
{
    private const string NormOut = "/layer1/layer1.1/bn1/BatchNormalization_output_0";

    private static Tensor RandomBatch(int n, int seed)
    {
        var random = new Random(seed);
        var t = new Tensor(n, 1, 28, 28);
        for (var i = 0; i < t.Length; i++) t.Data[i] = (float)(random.NextDouble() * 2 - 1);
        return t;
    }

    private sealed record Result(float[] Inference, float[] Logits, Dictionary<string, float[]> Gradients);

    /// <summary>An inference pass, then a training forward and backward; <paramref name="between"/> runs between the two training halves.</summary>
    private static Result Run(LayerProfile? profile, Action<Network>? between = null, bool fuseTraining = true)
    {
        var network = Network.Build(OnnxModel.Load(Fixtures.EnginePathOf("resnet20.onnx")));
        network.Profile = profile;
        network.FuseTrainingLayers = fuseTraining;
        var inference = network.Forward(RandomBatch(4, 3)).Data.ToArray();
        network.Training = true;
        var logits = network.Forward(RandomBatch(4, 5)).Data.ToArray();
        between?.Invoke(network);
        var gradient = new float[logits.Length];
        Losses.SoftmaxCrossEntropy(4, 10, logits, [1, 2, 3, 4], 0f, gradient);
        network.Backward(gradient);
        return new Result(inference, logits, network.Parameters.ToDictionary(p => p.Name, p => p.Gradient.Data.ToArray()));
    }

    private static void AssertSame(Result expected, Result actual)
    {
        Assert.True(expected.Inference.AsSpan().SequenceEqual(actual.Inference), "inference output differs");
        Assert.True(expected.Logits.AsSpan().SequenceEqual(actual.Logits), "training logits differ");
        foreach (var (name, gradient) in expected.Gradients) Assert.True(gradient.AsSpan().SequenceEqual(actual.Gradients[name]), $"gradient of {name} differs");
    }

    [Fact]
    public void Profiling_wraps_every_layer_without_changing_a_bit()
    {
        var profile = new LayerProfile();
        AssertSame(Run(null), Run(profile));
        var entries = profile.Entries.ToList();
        Assert.Contains(entries, e => e.Op == "Conv+BatchNormalization+Add+Relu" && e.Forward);
        Assert.Contains(entries, e => e.Op == "BatchNormalization+Relu" && !e.Forward);
        Assert.Contains(entries, e => e.Op == "Conv" && !e.Forward);
        Assert.All(entries, e => Assert.True(e.Time > TimeSpan.Zero, $"{e.Op} was never timed"));
    }

    [Fact]
    public void A_profile_attached_or_detached_between_passes_takes_effect_at_the_next_pass()
    {
        var network = Network.Build(OnnxModel.Load(Fixtures.EnginePathOf("resnet20.onnx")));
        var input = RandomBatch(2, 1);
        network.Forward(input);
        var profile = new LayerProfile();
        network.Profile = profile;
        network.Forward(input);
        Assert.Contains(profile.Entries, e => e.Op == "Conv+BatchNormalization+Relu");
        var timed = profile.Entries.Sum(e => e.Time.Ticks);
        network.Profile = null;
        network.Forward(input);
        Assert.Equal(timed, profile.Entries.Sum(e => e.Time.Ticks));
    }

    [Fact]
    public void A_hook_added_between_forward_and_backward_leaves_the_backward_as_the_forward_planned_it()
    {
        // The capture would stop the BatchNormalization → Relu fusion of the next pass; the backward of this pass must
        // still be the fused one (the normalisation's own output was never written).
        float[]? seen = null;
        var expected = Run(null);
        var actual = Run(null, n => n.Capture(NormOut, t => seen = t.Data.ToArray()));
        AssertSame(expected, actual);
        Assert.Null(seen);
    }
}
