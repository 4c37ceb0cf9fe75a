namespace Acp.Data;

/// <summary>
/// A grey-scale data set read from a pair of IDX files (MNIST, Fashion-MNIST, KMNIST, …): an images file with magic
/// 0x00000803 (count × height × width unsigned bytes) and a labels file with magic 0x00000801 (count unsigned bytes).
/// Either may be gzip-compressed. The images are held in memory (47 MB for the 60000 Fashion-MNIST training images).
/// </summary>
public sealed class IdxDataset : IImageDataset
{
    private readonly byte[] _pixels;
    private readonly byte[] _labels;
    private readonly int _pixelCount;

    private IdxDataset(string imagesPath, string labelsPath, ImageShape shape, int classCount, int totalCount, byte[] pixels, byte[] labels)
    {
        ImagesPath = imagesPath;
        LabelsPath = labelsPath;
        ImageShape = shape;
        ClassCount = classCount;
        FileCount = totalCount;
        _pixels = pixels;
        _labels = labels;
        _pixelCount = shape.PixelCount;
    }

    /// <summary>The images file.</summary>
    public string ImagesPath { get; }

    /// <summary>The labels file.</summary>
    public string LabelsPath { get; }

    /// <summary>How many images the files hold; more than <see cref="Count"/> when a limit was given.</summary>
    public int FileCount { get; }

    /// <inheritdoc/>
    public int Count => _labels.Length;

    /// <inheritdoc/>
    public ImageShape ImageShape { get; }

    /// <inheritdoc/>
    public int ClassCount { get; }

    /// <summary>
    /// Reads the images and labels files. Both headers are checked (magic numbers, dimensions, equal counts) before
    /// any image is decoded, so a mismatched pair fails at once instead of after decompressing 47 MB.
    /// </summary>
    /// <param name="imagesPath">The <c>*-images-idx3-ubyte[.gz]</c> file.</param>
    /// <param name="labelsPath">The matching <c>*-labels-idx1-ubyte[.gz]</c> file.</param>
    /// <param name="limit">
    /// Read only the first <paramref name="limit"/> images; the rest of the images file is never decompressed. The
    /// labels file (one byte per image) is still read whole, so its size is checked and the class count does not
    /// depend on the limit.
    /// </param>
    /// <param name="classCount">
    /// The number of classes; every label must be below it. When null it is the largest label in the file + 1, which
    /// is 10 for MNIST and Fashion-MNIST.
    /// </param>
    /// <exception cref="DatasetException">A file is missing, truncated or corrupt, or the two files disagree.</exception>
    public static IdxDataset Load(string imagesPath, string labelsPath, int? limit = null, int? classCount = null)
    {
        ArgumentNullException.ThrowIfNull(imagesPath);
        ArgumentNullException.ThrowIfNull(labelsPath);
        if (limit < 0) throw new ArgumentOutOfRangeException(nameof(limit), limit, "The limit cannot be negative.");
        if (classCount is < 1 or > 256) throw new ArgumentOutOfRangeException(nameof(classCount), classCount, "Byte labels allow 1 to 256 classes.");

        using var images = IdxFile.Reader.Open(imagesPath);
        var dims = images.ReadHeader(3, "images");
        var (count, height, width) = (dims[0], dims[1], dims[2]);
        if (height == 0 || width == 0)
        {
            throw new DatasetException(imagesPath, $"the header announces images of {height}×{width} pixels; both sizes must be positive.");
        }
        var announcedImages = $"{count} images of {height}×{width}";
        images.CheckAnnouncedSize((Int128)count * height * width, announcedImages);

        using var labelsFile = IdxFile.Reader.Open(labelsPath);
        var labelCount = labelsFile.ReadHeader(1, "labels")[0];
        if (labelCount != count)
        {
            throw new DatasetException(labelsPath, $"holds {labelCount} labels but the images file {imagesPath} holds {count} images; are they from the same split?");
        }
        var announcedLabels = $"{labelCount} labels";
        labelsFile.CheckAnnouncedSize(labelCount, announcedLabels);

        var labels = new byte[labelCount];
        labelsFile.ReadExactly(labels, $"the {announcedLabels}");
        labelsFile.ExpectEnd(announcedLabels);
        var maxLabel = -1;
        foreach (var label in labels) maxLabel = Math.Max(maxLabel, label);
        if (classCount is { } classes and < 256)
        {
            var bad = labels.AsSpan().IndexOfAnyInRange((byte)classes, byte.MaxValue);
            if (bad >= 0)
            {
                throw new DatasetException(labelsPath, $"label {bad} is {labels[bad]}, outside the {classes} classes expected (0..{classes - 1}).");
            }
        }
        var resolvedClasses = classCount ?? Math.Max(1, maxLabel + 1);

        var kept = Math.Min(count, limit ?? int.MaxValue);
        var bytes = (long)kept * height * width;
        if (bytes > Array.MaxLength)
        {
            throw new DatasetException(imagesPath, $"{kept} images of {height}×{width} ({bytes} bytes) do not fit in one array; pass a limit.");
        }
        var pixels = new byte[bytes];
        images.ReadExactly(pixels, $"the {announcedImages}");
        // Only a full read can prove nothing follows the data; a limited read deliberately stops early.
        if (kept == count) images.ExpectEnd(announcedImages);

        return new IdxDataset(imagesPath, labelsPath, new ImageShape(1, height, width), resolvedClasses, count,
            pixels, kept == labels.Length ? labels : labels[..kept]);
    }

    /// <inheritdoc/>
    public void ReadImage(int index, Span<byte> destination)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), index, $"The data set has {Count} images.");
        _pixels.AsSpan(index * _pixelCount, _pixelCount).CopyTo(destination);
    }

    /// <inheritdoc/>
    public int Label(int index)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), index, $"The data set has {Count} images.");
        return _labels[index];
    }

    /// <inheritdoc/>
    public override string ToString() => $"IDX {ImagesPath}: {Count} images of {ImageShape}, {ClassCount} classes";
}
