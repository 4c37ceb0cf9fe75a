using Acp.Engine.Execution;
using Acp.Engine.Kernels;
using Acp.Engine.Tensors;
using Acp.Engine.Tests.Training;

namespace Acp.Engine.Tests.Networks;

/// <summary>Capture and channel masks: the mechanisms clustering and pruning search build on.</summary>
public sealed class HookTests
{
    private static Tensor RandomBatch(int n, int seed)
    {
        var random = new Random(seed);
        var t = new Tensor(n, 1, 28, 28);
        for (var i = 0; i < t.Length; i++) t.Data[i] = (float)(random.NextDouble() * 2 - 1);
        return t;
    }

    [Fact]
    public void Masked_channels_are_zero_forward_and_get_no_gradient()
    {
        var network = Network.Build(SmallCnn.Create(1));
        network.Training = true;
        var keep = Enumerable.Range(0, 16).Select(c => c % 3 != 0).ToArray();
        network.SetChannelMask("c1", keep);
        float[]? seen = null;
        using var _ = network.Capture("c1", t => seen = (float[])t.Data.Clone());

        var logits = network.Forward(RandomBatch(4, 2));
        var labels = new[] { 1, 2, 3, 4 };
        var gradient = new float[logits.Length];
        Losses.SoftmaxCrossEntropy(4, 10, logits.Data, labels, 0, gradient);
        network.Backward(gradient);

        Assert.NotNull(seen);
        var plane = 28 * 28;
        var weight = network.Parameters.Single(p => p.Name == "conv1.weight").Gradient.Data;
        for (var c = 0; c < 16; c++)
        {
            var channelValues = Enumerable.Range(0, 4).SelectMany(n => seen!.Skip((n * 16 + c) * plane).Take(plane));
            var filterGradient = weight.Skip(c * 9).Take(9);
            if (keep[c])
            {
                Assert.Contains(channelValues, v => v != 0);
                Assert.Contains(filterGradient, v => v != 0);
            }
            else
            {
                Assert.All(channelValues, v => Assert.Equal(0f, v));
                Assert.All(filterGradient, v => Assert.Equal(0f, v));
            }
        }
    }

    [Fact]
    public void Removing_the_mask_restores_the_original_output()
    {
        var network = Network.Build(SmallCnn.Create(1));
        var input = RandomBatch(2, 3);
        var original = network.Forward(input).Data.ToArray();
        network.SetChannelMask("p1", Enumerable.Repeat(false, 16).ToArray());
        var masked = network.Forward(input).Data.ToArray();
        network.SetChannelMask("p1", null);
        Assert.NotEqual(original, masked);
        Assert.Equal(original, network.Forward(input).Data);
    }

    [Fact]
    public void Mask_of_the_wrong_width_is_refused()
    {
        var network = Network.Build(SmallCnn.Create(1));
        network.Forward(RandomBatch(1, 1));
        var e = Assert.Throws<ArgumentException>(() => network.SetChannelMask("c1", new bool[15]));
        Assert.Contains("16 channels", e.Message);
        Assert.Throws<ArgumentException>(() => network.SetChannelMask("no-such-value", new bool[1]));
    }

    [Fact]
    public void Batch_norm_recalibration_averages_batch_statistics_and_leaves_weights_alone()
    {
        var model = SmallCnn.Create(4);
        var network = Network.Build(model);
        var batches = Enumerable.Range(0, 3).Select(i => RandomBatch(8, 10 + i)).ToList();
        var sums = new double[16];
        var count = 0L;
        using (network.Capture("c1", t =>
        {
            var plane = 28 * 28;
            for (var n = 0; n < t.Shape[0]; n++)
            {
                for (var c = 0; c < 16; c++)
                {
                    for (var i = 0; i < plane; i++) sums[c] += t.Data[(n * 16 + c) * plane + i];
                }
            }
            count += t.Shape[0] * plane;
        }))
        {
            var weightsBefore = network.Parameters.Select(p => p.Value.Data.ToArray()).ToList();
            network.RecalibrateBatchNorm(batches);
            Assert.Equal(weightsBefore, network.Parameters.Select(p => p.Value.Data.ToArray()).ToList());
        }

        var after = model.Clone();
        network.WriteWeightsTo(after);
        var mean = after.Graph.Initializers["bn1.running_mean"].Floats;
        for (var c = 0; c < 16; c++) Assert.Equal(sums[c] / count, mean[c], 4);
        Assert.False(network.Training);
    }
}
