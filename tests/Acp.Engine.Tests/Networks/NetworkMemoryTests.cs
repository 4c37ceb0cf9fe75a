using Acp.Engine.Execution;
using Acp.Engine.Kernels;
using Xunit.Abstractions;

namespace Acp.Engine.Tests.Networks;

/// <summary>
/// What a network holds beyond its weights (issue 19): inference allocates no gradient buffers,
/// <see cref="Network.ReleaseBuffers"/> frees everything a pass computes into without changing what the next pass
/// computes, and inference logits do not depend on the batch an image is in (which lets the pruning run score
/// candidates at its training batch size instead of planning every network for a larger one).
/// </summary>
public sealed class NetworkMemoryTests(ShippedModelFixture shipped, ITestOutputHelper output) : IClassFixture<ShippedModelFixture>
{
    [Fact]
    public void Inference_logits_are_the_same_bits_whatever_the_batch_an_image_is_in()
    {
        var network = Network.Build(shipped.Model);
        var whole = Logits(network, 256, 256);
        Assert.Equal(256 * 10, whole.Length);
        foreach (var batch in new[] { 128, 100, 1 })
        {
            // 100 leaves a last batch of 56: the partial batch a loader ends with is planned as a shape of its own.
            var split = Logits(network, batch, 256);
            Assert.True(whole.AsSpan().SequenceEqual(split), $"logits of the first 256 test images differ between batches of 256 and of {batch}");
        }
    }

    [Fact]
    public void Inference_allocates_no_gradient_buffers_and_the_first_backward_does()
    {
        var network = Network.Build(shipped.Model);
        var batch = shipped.Loader(32).GetBatches(0).First();
        network.Forward(batch.Shape, batch.ImageSpan);
        var inference = network.BufferBytes;
        network.Training = true;
        var logits = network.Forward(batch.Shape, batch.ImageSpan).Data.ToArray();
        var forward = network.BufferBytes;
        var gradient = new float[logits.Length];
        Losses.SoftmaxCrossEntropy(batch.Count, 10, logits, batch.Labels.AsSpan(0, batch.Count).ToArray(), 0f, gradient);
        network.Backward(gradient);
        var backward = network.BufferBytes;
        output.WriteLine($"batch 32: inference {inference / 1e6:0.0} MB, training forward {forward / 1e6:0.0} MB, after backward {backward / 1e6:0.0} MB");
        // Every computed value of this network depends on a weight, so the backward pass adds a gradient as large as
        // each value (the input has none): close to doubling (1.85 here; the fused layers' padded buffers have none).
        // Allocated at planning, as before issue 19, they were there after inference already.
        Assert.True(backward > 1.6 * inference, $"after backward {backward} bytes, after inference {inference}: the gradient buffers were allocated before backward needed them");
        Assert.Equal(inference, forward);
    }

    [Fact]
    public void Released_buffers_are_freed_and_the_next_passes_compute_the_same_bits()
    {
        var fresh = Run(Network.Build(shipped.Model), release: false);
        var network = Network.Build(shipped.Model);
        // Inference only (a training pass would move the running statistics away from the fresh network's).
        var batch = shipped.Loader(40).GetBatches(0).First();
        network.Forward(batch.Shape, batch.ImageSpan);
        Assert.True(network.BufferBytes > 0);
        network.ReleaseBuffers();
        Assert.Equal(0, network.BufferBytes);
        var again = Run(network, release: true);
        Assert.True(fresh.Inference.AsSpan().SequenceEqual(again.Inference), "inference after a release differs from a fresh network's");
        Assert.True(fresh.Training.AsSpan().SequenceEqual(again.Training), "training logits after a release differ");
        foreach (var (name, gradient) in fresh.Gradients) Assert.True(gradient.AsSpan().SequenceEqual(again.Gradients[name]), $"gradient of {name} after a release differs");
    }

    private sealed record Passes(float[] Inference, float[] Training, Dictionary<string, float[]> Gradients);

    /// <summary>An inference pass at batch 24 and a training step at batch 16, releasing in between when asked.</summary>
    private Passes Run(Network network, bool release)
    {
        var batches = shipped.Loader(24).GetBatches(0).First();
        network.Training = false;
        var inference = network.Forward(batches.Shape, batches.ImageSpan).Data.ToArray();
        if (release) network.ReleaseBuffers();
        var batch = shipped.Loader(16).GetBatches(0).First();
        network.Training = true;
        var logits = network.Forward(batch.Shape, batch.ImageSpan).Data.ToArray();
        var gradient = new float[logits.Length];
        Losses.SoftmaxCrossEntropy(batch.Count, 10, logits, batch.Labels.AsSpan(0, batch.Count).ToArray(), 0f, gradient);
        network.Backward(gradient);
        return new Passes(inference, logits, network.Parameters.ToDictionary(p => p.Name, p => p.Gradient.Data.ToArray()));
    }

    private float[] Logits(Network network, int batchSize, int images)
    {
        var logits = new List<float>();
        foreach (var batch in shipped.Loader(batchSize).GetBatches(0))
        {
            if (logits.Count >= images * 10) break;
            var take = Math.Min(batch.Count, images - logits.Count / 10);
            var shape = (int[])batch.Shape.Clone();
            shape[0] = take;
            logits.AddRange(network.Forward(shape, batch.ImageSpan[..(take * batch.ImageShape.PixelCount)]).Data.ToArray());
        }
        return [.. logits];
    }
}
