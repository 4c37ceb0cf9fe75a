using Acp.Engine.Execution;
using Acp.Onnx.Channels;
using Acp.Onnx.Ir;
using Acp.Onnx.Tests.Channels;
using Acp.Onnx.Tests.Support;

namespace Acp.Pruning.Tests;

/// <summary>
/// The proof that surgery removes exactly the channels the analysis groups: ONNX Runtime on the pruned model gives
/// what Acp's engine gives on the ORIGINAL model with the removed channels forced to zero at every value that
/// carries them (after BatchNormalization and activations, so a removed channel contributes nothing anywhere).
/// Masking is not the same as zeroing weights: BN shifts and biases would make a zeroed filter's output non-zero.
/// </summary>
public sealed class EquivalenceTests
{
    public static TheoryData<string, int> Torchvision
    {
        get
        {
            var data = new TheoryData<string, int>();
            foreach (var model in new[] { "resnet18", "mobilenet_v2", "densenet121", "vgg11_bn" })
            {
                foreach (var form in new[] { "bn", "folded" })
                {
                    foreach (var seed in new[] { 1, 2 }) data.Add($"{model}.{form}.onnx", seed);
                }
            }
            return data;
        }
    }

    public static TheoryData<string> SmallFixtures => new(
        Fixtures.EdgeFiles.Where(f => !f.Contains(".noort.", StringComparison.Ordinal)).Append("tiny_cnn.onnx").Append("tiny_mlp.onnx"));

    public static TheoryData<string> HandBuilt => new(ChannelModels.EngineRunnable);

    [Theory]
    [MemberData(nameof(Torchvision))]
    public void Pruned_torchvision_model_matches_the_masked_original(string file, int seed)
    {
        // Two ratios, so that both mostly-kept and mostly-removed groups are exercised; widths rounded to 8.
        var ratio = seed == 1 ? 0.5 : 0.25;
        AssertEquivalent(OnnxModel.Load(Fixtures.PathOf(file)), analysis => UniformSelection.Random(seed).Select(analysis, ratio), seed, file);
    }

    [Theory]
    [MemberData(nameof(SmallFixtures))]
    public void Pruned_edge_case_matches_the_masked_original(string file)
    {
        var model = OnnxModel.Load(Fixtures.PathOf(file));
        for (var seed = 1; seed <= 3; seed++)
        {
            AssertEquivalent(model, analysis => UniformSelection.Random(seed).Select(analysis, 0.5, roundTo: 1), seed, file);
        }
    }

    [Theory]
    [MemberData(nameof(HandBuilt))]
    public void Pruned_hand_built_model_matches_the_masked_original(string name)
    {
        var model = ChannelModels.All[name]();
        for (var seed = 1; seed <= 3; seed++)
        {
            AssertEquivalent(model, analysis => UniformSelection.Random(seed).Select(analysis, 0.3 * seed - 0.2, roundTo: 1), seed, name);
        }
    }

    private static void AssertEquivalent(OnnxModel model, Func<ChannelAnalysis, IReadOnlyDictionary<int, int[]>> choose, int seed, string what)
    {
        var analysis = ChannelAnalysis.Run(model);
        var plan = PruningPlan.Create(analysis, choose(analysis));
        var pruned = ChannelSurgery.Apply(plan).Model;

        var network = Network.Build(model);
        var computed = network.ComputedValues.ToHashSet(StringComparer.Ordinal);
        var masked = 0;
        foreach (var value in analysis.TrackedValues)
        {
            var channels = analysis.ChannelCount(value)!.Value;
            if (plan.KeptChannels(value) is not { } kept || kept.Length == channels) continue;
            Assert.Contains(value, computed);
            var keep = new bool[channels];
            foreach (var c in kept) keep[c] = true;
            network.SetChannelMask(value, keep);
            masked++;
        }
        Assert.True(masked > 0 || !plan.RemovesChannels, $"{what}: the plan removes channels but no value was masked");

        var shape = OrtHarness.InputShape(model, 2);
        var input = OrtHarness.RandomInput(shape, seed);
        var expected = network.Forward(shape.Select(d => (int)d).ToArray(), input);
        var actual = OrtHarness.Run(pruned, input, shape);

        Assert.Equal(expected.Shape.Select(d => (long)d), actual.Shape);
        OrtHarness.AssertClose(expected.Data, actual.Data, 1e-4, $"{what} seed {seed}");
    }
}
