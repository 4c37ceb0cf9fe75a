namespace Acp.Engine.Data;

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
}
