namespace Acp.Data;

/// <summary>
/// Per-channel standardisation applied after scaling pixels to [0, 1]: x = (pixel / 255 − mean[c]) / std[c], as
/// torchvision's <c>ToTensor</c> followed by <c>Normalize(mean, std)</c>. A model must be fed the statistics it was
/// trained with, so the presets are the values the usual training recipes use.
/// </summary>
public sealed class ChannelNormalization
{
    private readonly float[] _mean;
    private readonly float[] _std;

    /// <summary>Normalisation with the given per-channel mean and standard deviation (on the [0, 1] scale).</summary>
    /// <exception cref="ArgumentException">The lists differ in length, are empty, or a value is not finite or a std is not positive.</exception>
    public ChannelNormalization(IReadOnlyList<float> mean, IReadOnlyList<float> std)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(std);
        if (mean.Count == 0 || mean.Count != std.Count)
        {
            throw new ArgumentException($"Need one mean and one std per channel; got {mean.Count} means and {std.Count} stds.", nameof(std));
        }
        for (var c = 0; c < mean.Count; c++)
        {
            if (!float.IsFinite(mean[c])) throw new ArgumentException($"Mean of channel {c} is {mean[c]}; it must be finite.", nameof(mean));
            if (!(std[c] > 0) || !float.IsFinite(std[c])) throw new ArgumentException($"Std of channel {c} is {std[c]}; it must be positive and finite.", nameof(std));
        }
        _mean = mean.ToArray();
        _std = std.ToArray();
    }

    /// <summary>Number of channels.</summary>
    public int Channels => _mean.Length;

    /// <summary>Mean of each channel on the [0, 1] scale.</summary>
    public IReadOnlyList<float> Mean => _mean;

    /// <summary>Standard deviation of each channel on the [0, 1] scale.</summary>
    public IReadOnlyList<float> Std => _std;

    /// <summary>Only the scaling to [0, 1] (mean 0, std 1) for <paramref name="channels"/> channels.</summary>
    public static ChannelNormalization ScaleOnly(int channels)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        return new ChannelNormalization(new float[channels], Enumerable.Repeat(1f, channels).ToArray());
    }

    /// <summary>MNIST training-set statistics (0.1307, 0.3081).</summary>
    public static ChannelNormalization Mnist { get; } = new([0.1307f], [0.3081f]);

    /// <summary>Fashion-MNIST training-set statistics (0.2860, 0.3530).</summary>
    public static ChannelNormalization FashionMnist { get; } = new([0.2860f], [0.3530f]);

    /// <summary>CIFAR-10 training-set statistics.</summary>
    public static ChannelNormalization Cifar10 { get; } = new([0.4914f, 0.4822f, 0.4465f], [0.2470f, 0.2435f, 0.2616f]);

    /// <summary>CIFAR-100 training-set statistics.</summary>
    public static ChannelNormalization Cifar100 { get; } = new([0.5071f, 0.4865f, 0.4409f], [0.2673f, 0.2564f, 0.2762f]);

    /// <summary>ImageNet statistics, which torchvision's pretrained models expect.</summary>
    public static ChannelNormalization ImageNet { get; } = new([0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f]);

    /// <summary>
    /// Measures the per-channel mean and (population) standard deviation of a data set's pixels on the [0, 1] scale,
    /// for data sets without a published preset. Sums are accumulated in integers, so the result does not depend on
    /// the order of the images.
    /// </summary>
    public static ChannelNormalization Compute(IImageDataset dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        if (dataset.Count == 0) throw new ArgumentException("Cannot measure an empty data set.", nameof(dataset));
        var shape = dataset.ImageShape;
        var plane = shape.PlaneSize;
        var sums = new long[shape.Channels];
        // Per image a plane sums to at most 255² × plane; accumulated in UInt128 so no data set size can overflow.
        var squares = new UInt128[shape.Channels];
        var pixels = new byte[shape.PixelCount];
        for (var i = 0; i < dataset.Count; i++)
        {
            dataset.ReadImage(i, pixels);
            for (var c = 0; c < shape.Channels; c++)
            {
                long sum = 0, square = 0;
                foreach (var p in pixels.AsSpan(c * plane, plane))
                {
                    sum += p;
                    square += p * p;
                }
                sums[c] += sum;
                squares[c] += (UInt128)square;
            }
        }
        var n = (double)dataset.Count * plane;
        var mean = new float[shape.Channels];
        var std = new float[shape.Channels];
        for (var c = 0; c < shape.Channels; c++)
        {
            var m = sums[c] / n;
            var variance = Math.Max(0, (double)squares[c] / n - m * m);
            mean[c] = (float)(m / 255);
            // A constant channel would give std 0 and divide by zero; fall back to 1 (only centring).
            std[c] = variance > 0 ? (float)(Math.Sqrt(variance) / 255) : 1f;
        }
        return new ChannelNormalization(mean, std);
    }

    /// <summary>The normalised value of byte <paramref name="pixel"/> in channel <paramref name="channel"/>.</summary>
    public float Apply(int channel, byte pixel) => (float)((pixel / 255.0 - _mean[channel]) / _std[channel]);

    /// <summary>
    /// A 256-entry table per channel of <see cref="Apply"/>: with only 256 possible inputs, a lookup is cheaper than the
    /// arithmetic and gives bit-identical results everywhere.
    /// </summary>
    internal float[] LookupTable()
    {
        var table = new float[Channels * 256];
        for (var c = 0; c < Channels; c++)
        {
            for (var v = 0; v < 256; v++) table[c * 256 + v] = Apply(c, (byte)v);
        }
        return table;
    }

    /// <inheritdoc/>
    public override string ToString() => $"mean ({string.Join(", ", _mean)}), std ({string.Join(", ", _std)})";
}
