namespace Acp.Data;

/// <summary>
/// A data set over arrays the caller already has: synthetic data for tests, images decoded elsewhere, or a
/// materialised subset. The arrays are used as given, not copied.
/// </summary>
public sealed class InMemoryImageDataset : IImageDataset
{
    private readonly byte[] _pixels;
    private readonly int[] _labels;

    /// <summary>Images <paramref name="pixels"/> (count × CHW bytes, concatenated) with <paramref name="labels"/>.</summary>
    /// <exception cref="ArgumentException">The sizes disagree or a label is outside 0..classCount−1.</exception>
    public InMemoryImageDataset(ImageShape shape, int classCount, byte[] pixels, int[] labels)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentNullException.ThrowIfNull(labels);
        if (shape.Channels <= 0 || shape.Height <= 0 || shape.Width <= 0) throw new ArgumentException($"Image shape {shape} must be positive.", nameof(shape));
        if (classCount <= 0) throw new ArgumentOutOfRangeException(nameof(classCount), classCount, "Need at least one class.");
        if ((long)labels.Length * shape.PixelCount != pixels.Length)
        {
            throw new ArgumentException($"{labels.Length} labels need {(long)labels.Length * shape.PixelCount} pixel bytes of {shape} images; got {pixels.Length}.", nameof(pixels));
        }
        for (var i = 0; i < labels.Length; i++)
        {
            if ((uint)labels[i] >= (uint)classCount) throw new ArgumentException($"Label {i} is {labels[i]}, outside 0..{classCount - 1}.", nameof(labels));
        }
        ImageShape = shape;
        ClassCount = classCount;
        _pixels = pixels;
        _labels = labels;
    }

    /// <inheritdoc/>
    public int Count => _labels.Length;

    /// <inheritdoc/>
    public ImageShape ImageShape { get; }

    /// <inheritdoc/>
    public int ClassCount { get; }

    /// <inheritdoc/>
    public void ReadImage(int index, Span<byte> destination)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), index, $"The data set has {Count} images.");
        var size = ImageShape.PixelCount;
        _pixels.AsSpan(index * size, size).CopyTo(destination);
    }

    /// <inheritdoc/>
    public int Label(int index)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), index, $"The data set has {Count} images.");
        return _labels[index];
    }
}
