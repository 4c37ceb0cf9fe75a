namespace Acp.Data;

/// <summary>
/// CIFAR-10 or CIFAR-100 from the "binary version" files: fixed-size records of label byte(s) followed by a 32×32
/// RGB image stored as 1024 red, 1024 green, then 1024 blue bytes, i.e. already CHW. CIFAR-100 records carry a
/// coarse (20 super-classes) and a fine (100 classes) label; the fine one is used, as in the usual benchmarks.
/// Images are held in memory (150 MB for the 50000 training images).
/// </summary>
public sealed class CifarDataset : IImageDataset
{
    /// <summary>Bytes of pixels per image: 3 × 32 × 32.</summary>
    public const int PixelBytes = 3 * 32 * 32;

    /// <summary>Images per CIFAR-10 batch file as published (the reader accepts any whole number of records).</summary>
    public const int ImagesPerBatch = 10000;

    private const int ReadChunkRecords = 512;

    private readonly byte[] _pixels;
    private readonly byte[] _labels;

    private CifarDataset(DatasetFormat format, IReadOnlyList<string> files, byte[] pixels, byte[] labels)
    {
        Format = format;
        Files = files;
        _pixels = pixels;
        _labels = labels;
        ClassCount = format == DatasetFormat.Cifar10 ? 10 : 100;
    }

    /// <summary><see cref="DatasetFormat.Cifar10"/> or <see cref="DatasetFormat.Cifar100"/>.</summary>
    public DatasetFormat Format { get; }

    /// <summary>The files read, in order.</summary>
    public IReadOnlyList<string> Files { get; }

    /// <inheritdoc/>
    public int Count => _labels.Length;

    /// <inheritdoc/>
    public ImageShape ImageShape => new(3, 32, 32);

    /// <inheritdoc/>
    public int ClassCount { get; }

    /// <summary>
    /// Reads CIFAR-10 batch files (e.g. <c>data_batch_1.bin</c> … <c>data_batch_5.bin</c> for the training split) and
    /// concatenates them in the order given.
    /// </summary>
    /// <param name="files">The batch files.</param>
    /// <param name="limit">Read only the first <paramref name="limit"/> images; later records and files are not read.</param>
    /// <exception cref="DatasetException">A file is missing, not a whole number of 3073-byte records, or has a label above 9.</exception>
    public static CifarDataset LoadCifar10(IEnumerable<string> files, int? limit = null) => Load(DatasetFormat.Cifar10, files, limit);

    /// <summary>Reads a CIFAR-100 file (<c>train.bin</c> or <c>test.bin</c>), using the fine labels.</summary>
    /// <param name="file">The file.</param>
    /// <param name="limit">Read only the first <paramref name="limit"/> images.</param>
    /// <exception cref="DatasetException">The file is missing, not a whole number of 3074-byte records, or has an out-of-range label.</exception>
    public static CifarDataset LoadCifar100(string file, int? limit = null) => Load(DatasetFormat.Cifar100, [file], limit);

    private static CifarDataset Load(DatasetFormat format, IEnumerable<string> fileList, int? limit)
    {
        ArgumentNullException.ThrowIfNull(fileList);
        if (limit < 0) throw new ArgumentOutOfRangeException(nameof(limit), limit, "The limit cannot be negative.");
        var files = fileList.ToArray();
        if (files.Length == 0) throw new ArgumentException("No files given.", nameof(fileList));
        var labelBytes = format == DatasetFormat.Cifar10 ? 1 : 2;
        var recordSize = labelBytes + PixelBytes;
        var name = format == DatasetFormat.Cifar10 ? "CIFAR-10" : "CIFAR-100";

        // Sizes first, for every file: a wrong file fails before anything is allocated or read, and the total tells
        // how much to allocate.
        var records = new long[files.Length];
        long total = 0;
        for (var f = 0; f < files.Length; f++)
        {
            var info = new FileInfo(files[f]);
            if (!info.Exists) throw new DatasetException(files[f], "file not found.");
            if (info.Length == 0 || info.Length % recordSize != 0)
            {
                var other = format == DatasetFormat.Cifar10 ? PixelBytes + 2 : PixelBytes + 1;
                var hint = info.Length > 0 && info.Length % other == 0
                    ? $" Its size is a whole number of {other}-byte records: is it a {(format == DatasetFormat.Cifar10 ? "CIFAR-100" : "CIFAR-10")} file?"
                    : "";
                throw new DatasetException(files[f], $"size {info.Length} bytes is not a positive whole number of {recordSize}-byte {name} records " +
                    $"({labelBytes} label byte{(labelBytes == 1 ? "" : "s")} + {PixelBytes} pixel bytes).{hint}");
            }
            records[f] = info.Length / recordSize;
            total += records[f];
        }

        var wanted = Math.Min(total, limit ?? long.MaxValue);
        if (wanted > Array.MaxLength / PixelBytes)
        {
            throw new DatasetException(files[0], $"{wanted} images of {PixelBytes} bytes do not fit in one array; pass a limit.");
        }
        var kept = (int)wanted;
        var pixels = new byte[(long)kept * PixelBytes];
        var labels = new byte[kept];
        var buffer = new byte[ReadChunkRecords * recordSize];
        var next = 0;
        var used = new List<string>();
        for (var f = 0; f < files.Length && next < kept; f++)
        {
            used.Add(files[f]);
            try
            {
                using var stream = new FileStream(files[f], FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
                var remaining = (int)Math.Min(records[f], kept - next);
                var recordInFile = 0;
                while (remaining > 0)
                {
                    var chunk = Math.Min(remaining, ReadChunkRecords);
                    var got = stream.ReadAtLeast(buffer.AsSpan(0, chunk * recordSize), chunk * recordSize, throwOnEndOfStream: false);
                    if (got < chunk * recordSize)
                    {
                        // The size was checked above, so this is a file changing under us.
                        throw new DatasetException(files[f], $"truncated while reading: record {recordInFile + got / recordSize} is incomplete.");
                    }
                    for (var r = 0; r < chunk; r++, recordInFile++, next++)
                    {
                        var record = buffer.AsSpan(r * recordSize, recordSize);
                        if (format == DatasetFormat.Cifar100 && record[0] >= 20)
                        {
                            throw new DatasetException(files[f], $"record {recordInFile} has coarse label {record[0]}; CIFAR-100 coarse labels are 0..19.");
                        }
                        var label = record[labelBytes - 1];
                        if (label >= (format == DatasetFormat.Cifar10 ? 10 : 100))
                        {
                            throw new DatasetException(files[f], format == DatasetFormat.Cifar10
                                ? $"record {recordInFile} has label {label}; CIFAR-10 labels are 0..9."
                                : $"record {recordInFile} has fine label {label}; CIFAR-100 fine labels are 0..99.");
                        }
                        labels[next] = label;
                        record[labelBytes..].CopyTo(pixels.AsSpan(next * PixelBytes, PixelBytes));
                    }
                    remaining -= chunk;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new DatasetException(files[f], $"read failed: {e.Message}", e);
            }
        }
        return new CifarDataset(format, used, pixels, labels);
    }

    /// <inheritdoc/>
    public void ReadImage(int index, Span<byte> destination)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), index, $"The data set has {Count} images.");
        _pixels.AsSpan(index * PixelBytes, PixelBytes).CopyTo(destination);
    }

    /// <inheritdoc/>
    public int Label(int index)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), index, $"The data set has {Count} images.");
        return _labels[index];
    }

    /// <inheritdoc/>
    public override string ToString() => $"{(Format == DatasetFormat.Cifar10 ? "CIFAR-10" : "CIFAR-100")}: {Count} images of {ImageShape}, {ClassCount} classes";
}
