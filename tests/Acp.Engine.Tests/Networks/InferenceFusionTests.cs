using Acp.Engine.Execution;
using Acp.Engine.Kernels;
using Acp.Engine.Tensors;
using Acp.Engine.Training;
using Acp.Onnx.Ir;
using Acp.Onnx.Tests.Support;

namespace Acp.Engine.Tests.Networks;

/// <summary>
/// Inference-mode Conv [→ BatchNormalization] [→ Add] [→ Relu] fusion: ONNX Runtime is the oracle for the fused output;
/// the unfused pass (itself held to ONNX Runtime) is the oracle for captured values and masked channels, which must be
/// produced as if nothing were fused.
/// </summary>
public sealed class InferenceFusionTests
{
    private const string Block = "/layer2/layer2.0/";
    private const string ConvOut = Block + "conv2/Conv_output_0";
    private const string NormOut = Block + "bn2/BatchNormalization_output_0";
    private const string SumOut = Block + "Add_output_0";
    private const string ReluOut = Block + "Relu_1_output_0";
    private const string ShortcutNormOut = Block + "downsample/downsample.1/BatchNormalization_output_0";

    /// <summary>The ResNet-20 fixture with random BN scales, shifts and running statistics, so folding is not the identity.</summary>
    private static OnnxModel ResNet20WithRandomStatistics(int seed)
    {
        var model = OnnxModel.Load(Fixtures.EnginePathOf("resnet20.onnx"));
        var random = new Random(seed);
        foreach (var tensor in model.Graph.Initializers.ToList())
        {
            var name = tensor.Name;
            Func<float>? draw =
                name.EndsWith("running_var", StringComparison.Ordinal) ? () => 0.2f + 2f * random.NextSingle() :
                name.EndsWith("running_mean", StringComparison.Ordinal) ? () => random.NextSingle() - 0.5f :
                name.Contains("bn", StringComparison.Ordinal) || name.Contains("downsample.1", StringComparison.Ordinal) ? () => 0.5f + random.NextSingle() :
                null;
            if (draw is null || !tensor.IsFloat) continue;
            var data = Enumerable.Range(0, (int)tensor.ElementCount).Select(_ => draw()).ToArray();
            model.Graph.Initializers.Set(OnnxTensor.FromFloats(name, tensor.Dims, data));
        }
        return model;
    }

    private static Tensor RandomBatch(int n, int seed)
    {
        var random = new Random(seed);
        var t = new Tensor(n, 1, 28, 28);
        for (var i = 0; i < t.Length; i++) t.Data[i] = (float)(random.NextDouble() * 2 - 1);
        return t;
    }

    private static float[] Run(Network network, Tensor input, bool fuse)
    {
        network.FuseInferenceLayers = fuse;
        return network.Forward(input).Data.ToArray();
    }

    [Fact]
    public void Fused_inference_matches_onnx_runtime_and_every_chain_kind_fuses()
    {
        var model = ResNet20WithRandomStatistics(1);
        var network = Network.Build(model);
        var input = RandomBatch(5, 2);
        using var session = OrtRun.Session(model.ToBytes());
        var expected = session.First(network.InputName, input.Data, 5, 1, 28, 28);

        network.Profile = new LayerProfile();
        var actual = Run(network, input, fuse: true);

        Numerics.AssertClose(expected.Data, actual, 1e-4, "fused ResNet-20");
        var ops = network.Profile.Entries.Select(e => e.Op).ToHashSet();
        Assert.Contains("Conv+BatchNormalization+Relu", ops);
        Assert.Contains("Conv+BatchNormalization+Add+Relu", ops);
        Assert.Contains("Conv+BatchNormalization", ops); // the projection shortcuts: the other branch takes the Add
        Assert.DoesNotContain("BatchNormalization", ops);
        Assert.DoesNotContain("Relu", ops);
    }

    [Fact]
    public void Unfused_inference_still_runs_every_node()
    {
        var network = Network.Build(ResNet20WithRandomStatistics(1));
        network.Profile = new LayerProfile();
        Run(network, RandomBatch(2, 2), fuse: false);
        var ops = network.Profile.Entries.Select(e => e.Op).ToHashSet();
        Assert.Contains("BatchNormalization", ops);
        Assert.Contains("Relu", ops);
        Assert.DoesNotContain(ops, op => op.Contains('+', StringComparison.Ordinal));
    }

    /// <summary>Two networks of one model: one hands values over padded (the default), the other never does.</summary>
    private static (Network Dense, Network Padded) DenseAndPadded(int seed)
    {
        var model = ResNet20WithRandomStatistics(seed);
        var dense = Network.Build(model);
        dense.PadFusedActivations = false;
        return (dense, Network.Build(model));
    }

    [Fact]
    public void Handing_values_over_padded_gives_the_same_bits_for_any_batch_size()
    {
        var (dense, padded) = DenseAndPadded(7);
        // 5, then 1 (row chunks feed the workers, each reading the padded canvas in place), then 8 (buffers regrow).
        foreach (var n in new[] { 5, 1, 8 })
        {
            var input = RandomBatch(n, 10 + n);
            var expected = Run(dense, input, fuse: true);
            var actual = Run(padded, input, fuse: true);

            Assert.Equal(0, dense.PaddedActivationCount);
            Assert.True(expected.AsSpan().SequenceEqual(actual), $"batch {n}: padded hand-over changed the output");
            // Every value between two convolutions: the stem's output, the nine blocks' inner activations and eight of
            // the nine block outputs (the last feeds the pooling), the two read by a strided block and its 1x1 shortcut
            // included.
            if (ConvByChannelRuns) Assert.Equal(18, padded.PaddedActivationCount);
        }
    }

    [Fact]
    public void A_captured_value_is_not_handed_over_padded_and_is_complete()
    {
        var (dense, padded) = DenseAndPadded(8);
        var input = RandomBatch(4, 30);
        Run(padded, input, fuse: true);
        var withoutCapture = padded.PaddedActivationCount;
        float[]? expectedSeen = null, seen = null;
        using (dense.Capture(ReluOut, t => expectedSeen = t.Data.ToArray()))
        using (padded.Capture(ReluOut, t => seen = t.Data.ToArray()))
        {
            var expected = Run(dense, input, fuse: true);
            var actual = Run(padded, input, fuse: true);

            Assert.True(expected.AsSpan().SequenceEqual(actual));
            Assert.True(expectedSeen.AsSpan().SequenceEqual(seen), "the captured block output differs");
            if (ConvByChannelRuns) Assert.Equal(withoutCapture - 1, padded.PaddedActivationCount);
        }
        var after = Run(padded, input, fuse: true);
        Assert.Equal(withoutCapture, padded.PaddedActivationCount);
        Assert.True(Run(dense, input, fuse: true).AsSpan().SequenceEqual(after));
    }

    /// <summary>Whether this CPU runs the by-channel kernel, the only one that takes padded inputs.</summary>
    private static bool ConvByChannelRuns => System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated && System.Runtime.Intrinsics.X86.Avx512F.IsSupported;

    public static TheoryData<string> Intermediates => new(ConvOut, NormOut, SumOut, ReluOut, ShortcutNormOut);

    [Theory]
    [MemberData(nameof(Intermediates))]
    public void A_captured_value_is_produced_as_without_fusion(string value)
    {
        var network = Network.Build(ResNet20WithRandomStatistics(3));
        var input = RandomBatch(3, 4);
        float[]? seen = null;
        using var hook = network.Capture(value, t => seen = t.Data.ToArray());

        var unfused = Run(network, input, fuse: false);
        var expectedSeen = seen!;
        seen = null;
        var fused = Run(network, input, fuse: true);

        Assert.NotNull(seen);
        Numerics.AssertClose(expectedSeen, seen, 1e-5, $"captured {value}");
        Numerics.AssertClose(unfused, fused, 1e-5, $"output with {value} captured");
    }

    [Theory]
    [MemberData(nameof(Intermediates))]
    public void A_channel_mask_has_the_same_effect_as_without_fusion(string value)
    {
        var network = Network.Build(ResNet20WithRandomStatistics(5));
        var input = RandomBatch(3, 6);
        var channels = value.Contains("layer2", StringComparison.Ordinal) ? 32 : 16;
        network.SetChannelMask(value, Enumerable.Range(0, channels).Select(c => c % 3 != 1).ToArray());
        // Capture the block output too, so the test sees the masked channels' effect directly, not only via the logits.
        float[]? block = null;
        using var hook = value == ReluOut ? null : network.Capture(ReluOut, t => block = t.Data.ToArray());

        var unfused = Run(network, input, fuse: false);
        var unfusedBlock = block;
        var fused = Run(network, input, fuse: true);

        Numerics.AssertClose(unfused, fused, 1e-5, $"output with {value} masked");
        if (unfusedBlock is not null) Numerics.AssertClose(unfusedBlock, block!, 1e-5, $"block output with {value} masked");
        network.SetChannelMask(value, null);
        var unmasked = Run(network, input, fuse: true);
        Assert.False(unmasked.AsSpan().SequenceEqual(fused), "the mask had no effect: the test would not see a wrong fold");
    }

    [Fact]
    public void Folding_follows_weight_updates_and_recalibrated_statistics()
    {
        var network = Network.Build(ResNet20WithRandomStatistics(7));
        var input = RandomBatch(8, 8);
        var before = Run(network, input, fuse: true);

        var sgd = new SgdOptimizer(network.Parameters, new SgdOptions { Momentum = 0.9f });
        var labels = Enumerable.Range(0, 8).Select(i => i % 10).ToArray();
        var gradient = new float[80];
        for (var step = 0; step < 2; step++)
        {
            network.Training = true;
            var logits = network.Forward(input);
            Losses.SoftmaxCrossEntropy(8, 10, logits.Data, labels, 0f, gradient);
            network.Backward(gradient);
            sgd.Step(0.05f);
        }
        network.Training = false;
        var trained = Run(network, input, fuse: true);
        Numerics.AssertClose(Run(network, input, fuse: false), trained, 1e-5, "after SGD steps");
        Assert.False(before.AsSpan().SequenceEqual(trained));

        network.RecalibrateBatchNorm([RandomBatch(8, 9)]);
        var recalibrated = Run(network, input, fuse: true);
        Numerics.AssertClose(Run(network, input, fuse: false), recalibrated, 1e-5, "after BN recalibration");
        Assert.False(trained.AsSpan().SequenceEqual(recalibrated));
    }

    [Fact]
    public void Backward_after_a_fused_inference_pass_is_still_refused()
    {
        var network = Network.Build(ResNet20WithRandomStatistics(1));
        var logits = network.Forward(RandomBatch(2, 1));
        Assert.Throws<EngineException>(() => network.Backward(new float[logits.Length]));
    }

    [Fact]
    public void Torchvision_resnet18_with_batchnorm_fuses_and_matches_onnx_runtime()
    {
        var path = Fixtures.PathOf("resnet18.bn.onnx");
        var network = Network.Build(OnnxModel.Load(path));
        using var session = OrtRun.Session(path);
        var (name, declared) = session.InputMetadata.First();
        var shape = declared.Dimensions.Select(d => d < 0 ? 2 : (int)d).ToArray();
        var random = new Random(18);
        var input = new float[shape.Aggregate(1, (a, b) => a * b)];
        for (var i = 0; i < input.Length; i++) input[i] = (float)(random.NextDouble() * 2 - 1);
        var expected = session.First(name, input, shape.Select(d => (long)d).ToArray());

        network.Profile = new LayerProfile();
        var actual = network.Forward(shape, input);

        Numerics.AssertClose(expected.Data, actual.Data, 1e-4, "resnet18.bn");
        Assert.Contains(network.Profile.Entries, e => e.Op == "Conv+BatchNormalization+Add+Relu");
    }

    /// <summary>torchvision's ResNet-18 exported with BatchNormalization folded (64×64), and a random batch for it.</summary>
    private static (OnnxModel Model, float[] Input, int[] Shape) FoldedResNet18(int batch, int seed)
    {
        var model = OnnxModel.Load(Fixtures.PathOf("resnet18.folded.onnx"));
        var shape = new[] { batch, 3, 64, 64 };
        var random = new Random(seed);
        var input = new float[shape.Aggregate(1, (a, b) => a * b)];
        for (var i = 0; i < input.Length; i++) input[i] = (float)(random.NextDouble() * 2 - 1);
        return (model, input, shape);
    }

    private const string FoldedBlockConv = "/layer2/layer2.0/conv2/Conv_output_0";
    private const string FoldedBlockSum = "/layer2/layer2.0/Add_output_0";
    private const string FoldedInnerConv = "/layer1/layer1.0/conv1/Conv_output_0";

    [Fact]
    public void A_model_with_batchnorm_folded_fuses_relu_and_add_and_matches_onnx_runtime()
    {
        var (model, input, shape) = FoldedResNet18(3, 21);
        var network = Network.Build(model);
        using var session = OrtRun.Session(model.ToBytes());
        var expected = session.First(network.InputName, input, shape.Select(d => (long)d).ToArray());

        network.Profile = new LayerProfile();
        var actual = network.Forward(shape, input).Data.ToArray();

        Numerics.AssertClose(expected.Data, actual, 1e-4, "folded resnet18, fused");
        var ops = network.Profile.Entries.Select(e => e.Op).ToHashSet();
        Assert.Contains("Conv+Relu", ops);
        Assert.Contains("Conv+Add+Relu", ops);
        Assert.DoesNotContain("Relu", ops);
        Assert.DoesNotContain("Add", ops);
        network.Profile = null;
        network.FuseInferenceLayers = false;
        Numerics.AssertClose(actual, network.Forward(shape, input).Data, 1e-5, "folded resnet18, unfused");
    }

    [Theory]
    [InlineData(FoldedBlockConv)]
    [InlineData(FoldedInnerConv)]
    [InlineData(FoldedBlockSum)]
    public void Without_batchnorm_a_channel_mask_has_the_same_effect_as_without_fusion(string value)
    {
        var (model, input, shape) = FoldedResNet18(2, 22);
        var network = Network.Build(model);
        var channels = value.Contains("layer2", StringComparison.Ordinal) ? 128 : 64;
        network.SetChannelMask(value, Enumerable.Range(0, channels).Select(c => c % 3 != 1).ToArray());

        network.FuseInferenceLayers = false;
        var unfused = network.Forward(shape, input).Data.ToArray();
        network.FuseInferenceLayers = true;
        var fused = network.Forward(shape, input).Data.ToArray();

        Numerics.AssertClose(unfused, fused, 1e-5, $"output with {value} masked");
        network.SetChannelMask(value, null);
        Assert.False(network.Forward(shape, input).Data.AsSpan().SequenceEqual(fused), "the mask had no effect: the test would not see a wrong fold");
    }

    [Fact]
    public void Backward_after_a_fused_inference_pass_without_batchnorm_gives_the_unfused_gradients()
    {
        var (model, input, shape) = FoldedResNet18(2, 23);
        var gradient = Enumerable.Range(0, 2 * 10).Select(i => (float)Math.Sin(i)).ToArray(); // the fixture has 10 classes
        float[][] Gradients(bool fuse, bool capture)
        {
            var network = Network.Build(model);
            network.FuseInferenceLayers = fuse;
            var calls = 0;
            using var hook = capture ? network.Capture(FoldedBlockSum, _ => calls++) : null;
            // A mask on a value inside a fused chain must hold in the replayed pass as in the fused one.
            network.SetChannelMask(FoldedInnerConv, Enumerable.Range(0, 64).Select(c => c % 4 != 0).ToArray());
            network.Forward(shape, input);
            network.Backward(gradient);
            if (capture) Assert.Equal(1, calls); // the replay does not call observers again
            return network.Parameters.Select(p => p.Gradient.Data.ToArray()).ToArray();
        }

        var expected = Gradients(fuse: false, capture: false);
        var actual = Gradients(fuse: true, capture: false);
        var captured = Gradients(fuse: true, capture: true);

        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Numerics.AssertClose(expected[i], actual[i], 1e-5, $"gradient {i}");
            Numerics.AssertClose(expected[i], captured[i], 1e-5, $"gradient {i} with a capture");
        }
        Assert.Contains(expected, g => g.Any(v => v != 0f));
    }
}
