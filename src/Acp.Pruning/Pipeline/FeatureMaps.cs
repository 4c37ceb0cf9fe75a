using Acp.Data;
using Acp.Engine.Backends;
using Acp.Engine.Tensors;
using Acp.Onnx.Channels;

namespace Acp.Pruning.Pipeline;

/// <summary>Per group, each channel's mean feature map: the rows ACP clusters.</summary>
/// <param name="Group">The group.</param>
/// <param name="Rows">Row-major [group width × <paramref name="FeatureCount"/>] mean maps.</param>
/// <param name="FeatureCount">Values per row: the spatial sizes of every tapped value, concatenated.</param>
public sealed record GroupFeatures(ChannelGroup Group, float[] Rows, int FeatureCount);

/// <summary>ACP's step (a): calibration images through the original network, feature maps averaged per channel.</summary>
public static class FeatureMaps
{
    /// <summary>
    /// Runs <paramref name="calibration"/> through <paramref name="network"/> in inference mode and returns, for each
    /// group, every channel's feature map averaged over the images.
    /// </summary>
    /// <remarks>
    /// A group with several tapped values (the convolutions feeding one residual sum) gets the maps of all of them
    /// side by side in its rows, so two channels are close only if they are close in every producer. A group channel a
    /// value carries more than once (a tensor concatenated with itself) contributes the sum of its copies; one a value
    /// does not carry contributes zeros there. Sums are in double, in image order, so the result does not depend on
    /// batch size or threads.
    /// </remarks>
    /// <exception cref="ArgumentException">A group has no value the network computes at the tap.</exception>
    public static IReadOnlyList<GroupFeatures> Collect(
        ITrainableNetwork network, IEnumerable<ChannelGroup> groups, BatchLoader calibration, FeatureTap tap,
        IProgress<PruningProgress>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(groups);
        ArgumentNullException.ThrowIfNull(calibration);
        var computed = network.ComputedValues.ToHashSet(StringComparer.Ordinal);
        var taps = new List<(ChannelGroup Group, ChannelMember[] Members)>();
        var sums = new Dictionary<string, double[]>(StringComparer.Ordinal);
        var spatial = new Dictionary<string, int>(StringComparer.Ordinal);
        var hooks = new List<IDisposable>();
        try
        {
            foreach (var group in groups)
            {
                var values = (tap == FeatureTap.ProducerOutput
                        ? group.Producers.Select(p => p.Output)
                        : group.Consumers.Select(c => c.Input))
                    .Distinct(StringComparer.Ordinal).Where(computed.Contains).ToArray();
                if (values.Length == 0) throw new ArgumentException($"Group {group.Id} ({group}) has no computed value at the {tap} tap.", nameof(groups));
                taps.Add((group, values.Select(v => group.MemberOf(v)!).ToArray()));
                foreach (var value in values.Where(v => !sums.ContainsKey(v)))
                {
                    sums[value] = [];
                    hooks.Add(network.Capture(value, tensor => Accumulate(value, tensor)));
                }
            }

            var images = 0;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            foreach (var batch in calibration.GetBatches(0))
            {
                cancellation.ThrowIfCancellationRequested();
                network.Forward(batch.Shape, batch.ImageSpan, training: false);
                images += batch.Count;
                progress?.Report(new PruningProgress(PruningStage.Calibrating, images, calibration.ImagesPerEpoch, $"feature maps of {images} images")
                {
                    ImagesPerSecond = images / Math.Max(1e-9, clock.Elapsed.TotalSeconds),
                });
            }
            if (images == 0) throw new ArgumentException("No calibration images.", nameof(calibration));
            return taps.Select(t => Rows(t.Group, t.Members, images)).ToArray();
        }
        finally
        {
            foreach (var hook in hooks) hook.Dispose();
        }

        void Accumulate(string value, Tensor tensor)
        {
            var n = tensor.Shape[0];
            var perImage = tensor.Length / n;
            var channels = tensor.Shape[1];
            spatial[value] = perImage / channels;
            var sum = sums[value];
            if (sum.Length != perImage) sums[value] = sum = new double[perImage];
            var data = tensor.Data;
            for (var i = 0; i < n; i++)
            {
                var offset = i * perImage;
                for (var k = 0; k < perImage; k++) sum[k] += data[offset + k];
            }
        }

        GroupFeatures Rows(ChannelGroup group, ChannelMember[] members, int images)
        {
            var featureCount = members.Sum(m => spatial[m.Value]);
            var rows = new double[group.Width * featureCount];
            var start = 0;
            foreach (var member in members)
            {
                var size = spatial[member.Value];
                var sum = sums[member.Value];
                foreach (var (channel, groupIndex) in member.Channels())
                {
                    for (var k = 0; k < size; k++) rows[groupIndex * featureCount + start + k] += sum[channel * size + k];
                }
                start += size;
            }
            var mean = new float[rows.Length];
            for (var i = 0; i < rows.Length; i++) mean[i] = (float)(rows[i] / images);
            return new GroupFeatures(group, mean, featureCount);
        }
    }
}
