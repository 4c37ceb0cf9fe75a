namespace Acp.Data;

/// <summary>
/// A reusable batch buffer: images as floats [N, C, H, W] and their labels. <see cref="BatchLoader"/> overwrites the
/// same buffer for every batch so training allocates nothing per step; copy what must outlive the next batch.
/// </summary>
/// <remarks>
/// The arrays may be longer than the batch (they are sized for <see cref="Capacity"/> images, or come from a pool):
/// only the first <see cref="Count"/> images, labels and indices are valid, as the engine's kernels expect.
/// </remarks>
public sealed class Batch
{
    /// <summary>A buffer for up to <paramref name="capacity"/> images of <paramref name="shape"/>.</summary>
    public Batch(ImageShape shape, int capacity)
        : this(shape, capacity, new float[ImageFloats(shape, capacity)], new int[capacity])
    {
    }

    /// <summary>
    /// A buffer over caller-provided arrays (e.g. rented from a pool): <paramref name="images"/> must hold at least
    /// capacity × C × H × W floats and <paramref name="labels"/> at least capacity ints.
    /// </summary>
    public Batch(ImageShape shape, int capacity, float[] images, int[] labels)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        if (shape.Channels <= 0 || shape.Height <= 0 || shape.Width <= 0) throw new ArgumentException($"Image shape {shape} must be positive.", nameof(shape));
        if (images.Length < (long)capacity * shape.PixelCount)
        {
            throw new ArgumentException($"{capacity} images of {shape} need {(long)capacity * shape.PixelCount} floats; the buffer has {images.Length}.", nameof(images));
        }
        if (labels.Length < capacity) throw new ArgumentException($"{capacity} labels need {capacity} ints; the buffer has {labels.Length}.", nameof(labels));
        ImageShape = shape;
        Capacity = capacity;
        Images = images;
        Labels = labels;
        Indices = new int[capacity];
    }

    /// <summary>Shape of one image.</summary>
    public ImageShape ImageShape { get; }

    /// <summary>The most images the buffer holds.</summary>
    public int Capacity { get; }

    /// <summary>Images in the current batch (the last batch of an epoch may be smaller than the others).</summary>
    public int Count { get; internal set; }

    /// <summary>The epoch the current batch belongs to.</summary>
    public int Epoch { get; internal set; }

    /// <summary>Position of the current batch in its epoch (0, 1, …).</summary>
    public int Number { get; internal set; }

    /// <summary>Normalised pixels, [N, C, H, W] row-major; the first <see cref="Count"/> × C × H × W are valid.</summary>
    public float[] Images { get; }

    /// <summary>Class labels; the first <see cref="Count"/> are valid.</summary>
    public int[] Labels { get; }

    /// <summary>
    /// Which images of the loader's data set the batch holds; the first <see cref="Count"/> are valid. Lets callers
    /// look up per-image data such as cached teacher outputs.
    /// </summary>
    public int[] Indices { get; }

    /// <summary>The valid part of <see cref="Images"/>.</summary>
    public Span<float> ImageSpan => Images.AsSpan(0, Count * ImageShape.PixelCount);

    /// <summary>The valid part of <see cref="Labels"/>.</summary>
    public Span<int> LabelSpan => Labels.AsSpan(0, Count);

    private static int ImageFloats(ImageShape shape, int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        if (shape.Channels <= 0 || shape.Height <= 0 || shape.Width <= 0) throw new ArgumentException($"Image shape {shape} must be positive.", nameof(shape));
        var floats = (long)capacity * shape.PixelCount;
        if (floats > Array.MaxLength) throw new ArgumentOutOfRangeException(nameof(capacity), capacity, $"{capacity} images of {shape} do not fit in one array.");
        return (int)floats;
    }

    /// <summary>The tensor shape of the current batch, [Count, C, H, W].</summary>
    public int[] Shape => [Count, ImageShape.Channels, ImageShape.Height, ImageShape.Width];
}
