namespace Acp.Data;

/// <summary>
/// A data set of images that are model input already: floats in CHW order, scaled and normalised by whoever made them
/// (an ML.NET pipeline's ExtractPixels, say). The arrays are used as given, not copied.
/// </summary>
/// <remarks>
/// Floats take 4× the memory of bytes, which is why the readers of image files keep bytes; this type exists for
/// callers whose data arrive as floats and cannot honestly be turned back into bytes.
/// </remarks>
public sealed class InMemoryFeatureDataset : IImageDataset
{
    private readonly float[] _features;
    private readonly int[] _labels;

    /// <summary>Images <paramref name="features"/> (count × CHW floats, concatenated) with <paramref name="labels"/>.</summary>
    /// <exception cref="ArgumentException">The sizes disagree, a label is outside 0..classCount−1, or a value is not finite.</exception>
    public InMemoryFeatureDataset(ImageShape shape, int classCount, float[] features, int[] labels)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labels);
        if (shape.Channels <= 0 || shape.Height <= 0 || shape.Width <= 0) throw new ArgumentException($"Image shape {shape} must be positive.", nameof(shape));
        if (classCount <= 0) throw new ArgumentOutOfRangeException(nameof(classCount), classCount, "Need at least one class.");
        if ((long)labels.Length * shape.PixelCount != features.Length)
        {
            throw new ArgumentException($"{labels.Length} labels need {(long)labels.Length * shape.PixelCount} values of {shape} images; got {features.Length}.", nameof(features));
        }
        for (var i = 0; i < labels.Length; i++)
        {
            if ((uint)labels[i] >= (uint)classCount) throw new ArgumentException($"Label {i} is {labels[i]}, outside 0..{classCount - 1}.", nameof(labels));
        }
        // A NaN in one image would silently poison every BatchNormalization statistic it reaches.
        var bad = Array.FindIndex(features, v => !float.IsFinite(v));
        if (bad >= 0) throw new ArgumentException($"Image {bad / shape.PixelCount} holds a value that is not finite ({features[bad]}).", nameof(features));
        ImageShape = shape;
        ClassCount = classCount;
        _features = features;
        _labels = labels;
    }

    /// <inheritdoc/>
    public int Count => _labels.Length;

    /// <inheritdoc/>
    public ImageShape ImageShape { get; }

    /// <inheritdoc/>
    public int ClassCount { get; }

    /// <inheritdoc/>
    public PixelFormat PixelFormat => PixelFormat.Features;

    /// <inheritdoc/>
    public void ReadFeatures(int index, Span<float> destination)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), index, $"The data set has {Count} images.");
        var size = ImageShape.PixelCount;
        _features.AsSpan(index * size, size).CopyTo(destination);
    }

    /// <summary>Not available: the images are floats (<see cref="ReadFeatures"/>).</summary>
    /// <exception cref="NotSupportedException">Always.</exception>
    public void ReadImage(int index, Span<byte> destination) =>
        throw new NotSupportedException("The images of this data set are model-input floats; read them with ReadFeatures.");

    /// <inheritdoc/>
    public int Label(int index)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), index, $"The data set has {Count} images.");
        return _labels[index];
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Count} model-input images of {ImageShape}";
}
