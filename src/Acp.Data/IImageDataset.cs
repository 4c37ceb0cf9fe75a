namespace Acp.Data;

/// <summary>
/// A labelled image classification data set with random access. Every image has the same <see cref="ImageShape"/>;
/// pixels are bytes 0..255 in CHW order (all of channel 0 row by row, then channel 1, …), which is how IDX and CIFAR
/// files store them, so readers copy instead of converting.
/// </summary>
/// <remarks>
/// Implementations in this namespace are immutable once constructed and safe to read from several threads at once.
/// Bytes rather than floats because that is 4× less memory for a training set held in RAM; <see cref="BatchLoader"/>
/// converts to normalised floats one batch at a time.
/// </remarks>
public interface IImageDataset
{
    /// <summary>Number of images.</summary>
    int Count { get; }

    /// <summary>Shape of every image.</summary>
    ImageShape ImageShape { get; }

    /// <summary>Number of classes; every label is in 0..ClassCount−1.</summary>
    int ClassCount { get; }

    /// <summary>
    /// Copies the pixels of image <paramref name="index"/> into <paramref name="destination"/>, which must hold at
    /// least <see cref="ImageShape.PixelCount"/> bytes.
    /// </summary>
    void ReadImage(int index, Span<byte> destination);

    /// <summary>The class of image <paramref name="index"/>.</summary>
    int Label(int index);

    /// <summary>
    /// Whether every <see cref="ReadImage"/> decodes a file (so a read costs far more than a copy, and nothing is held
    /// in memory): <see cref="BatchLoader"/> then decodes the images of the next batches in parallel, ahead of the
    /// caller, into a bounded number of batch buffers (<see cref="BatchLoaderOptions.PrefetchBatches"/>).
    /// </summary>
    bool DecodesOnRead => false;

    /// <summary>
    /// How the images are stored: 0..255 bytes that <see cref="BatchLoader"/> normalises (every reader of files), or
    /// floats that are model input already (<see cref="InMemoryFeatureDataset"/>: an ML.NET feature column).
    /// </summary>
    PixelFormat PixelFormat => PixelFormat.Bytes;

    /// <summary>
    /// Copies the model input of image <paramref name="index"/> into <paramref name="destination"/> (at least
    /// <see cref="ImageShape.PixelCount"/> floats); only for <see cref="PixelFormat.Features"/> data sets.
    /// </summary>
    /// <exception cref="NotSupportedException">The data set stores bytes: read them with <see cref="ReadImage"/>.</exception>
    void ReadFeatures(int index, Span<float> destination) =>
        throw new NotSupportedException("This data set stores 0..255 bytes; read them with ReadImage.");
}

/// <summary>How a data set stores its images.</summary>
public enum PixelFormat
{
    /// <summary>0..255 bytes in CHW order, normalised while batches are filled.</summary>
    Bytes,

    /// <summary>Floats in CHW order that are model input already (scaled and normalised by whoever made them).</summary>
    Features,
}
