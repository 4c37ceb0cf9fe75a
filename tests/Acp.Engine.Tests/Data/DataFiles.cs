using System.IO.Compression;
using Acp.Data;

namespace Acp.Engine.Tests.Data;

/// <summary>A temporary folder, deleted on dispose, for data files written by a test.</summary>
public sealed class TempFolder : IDisposable
{
    /// <summary>Creates an empty folder under the system temp folder.</summary>
    public TempFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "acp-data-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    /// <summary>The folder.</summary>
    public string Path { get; }

    /// <summary>A path inside the folder.</summary>
    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <inheritdoc/>
    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp folder must not fail a test.
        }
    }
}

/// <summary>Writers of synthetic IDX and CIFAR files, built byte by byte from the format descriptions.</summary>
public static class DataFiles
{
    /// <summary>An IDX file: 0, 0, type 0x08, rank, big-endian dimensions, data.</summary>
    public static byte[] Idx(int[] dims, byte[] data, byte type = 0x08)
    {
        var bytes = new List<byte> { 0, 0, type, (byte)dims.Length };
        foreach (var d in dims) bytes.AddRange([(byte)(d >> 24), (byte)(d >> 16), (byte)(d >> 8), (byte)d]);
        bytes.AddRange(data);
        return bytes.ToArray();
    }

    /// <summary>The gzip compression of <paramref name="bytes"/>.</summary>
    public static byte[] Gzip(byte[] bytes)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true)) gzip.Write(bytes);
        return output.ToArray();
    }

    /// <summary>Writes <paramref name="bytes"/>, gzip-compressed when asked.</summary>
    public static string Write(string path, byte[] bytes, bool gzip = false)
    {
        File.WriteAllBytes(path, gzip ? Gzip(bytes) : bytes);
        return path;
    }

    /// <summary>A deterministic pixel pattern for <paramref name="count"/> images that differs between images (and salts).</summary>
    public static byte[] Pixels(int count, int pixelsPerImage, int salt = 0)
    {
        var pixels = new byte[count * pixelsPerImage];
        for (var i = 0; i < count; i++)
        {
            for (var p = 0; p < pixelsPerImage; p++) pixels[i * pixelsPerImage + p] = (byte)(i * 37 + p * 11 + salt * 101 + (p * p >> 3));
        }
        return pixels;
    }

    /// <summary>Writes an IDX images/labels pair and returns the paths.</summary>
    public static (string Images, string Labels) WriteIdxPair(string folder, string prefix, byte[] pixels, int height, int width, byte[] labels,
        bool gzipImages, bool gzipLabels)
    {
        var images = Write(Path.Combine(folder, $"{prefix}-images-idx3-ubyte" + (gzipImages ? ".gz" : "")),
            Idx([labels.Length, height, width], pixels), gzipImages);
        var labelFile = Write(Path.Combine(folder, $"{prefix}-labels-idx1-ubyte" + (gzipLabels ? ".gz" : "")),
            Idx([labels.Length], labels), gzipLabels);
        return (images, labelFile);
    }

    /// <summary>
    /// CIFAR records: for each image its label byte(s) (<paramref name="coarse"/> first when given, for CIFAR-100) then
    /// 3072 pixel bytes.
    /// </summary>
    public static byte[] Cifar(byte[] labels, byte[] pixels, byte[]? coarse = null)
    {
        var bytes = new List<byte>();
        for (var i = 0; i < labels.Length; i++)
        {
            if (coarse is not null) bytes.Add(coarse[i]);
            bytes.Add(labels[i]);
            bytes.AddRange(pixels.AsSpan(i * CifarDataset.PixelBytes, CifarDataset.PixelBytes).ToArray());
        }
        return bytes.ToArray();
    }

    /// <summary>All pixels of a data set, image after image.</summary>
    public static byte[] AllPixels(IImageDataset dataset)
    {
        var size = dataset.ImageShape.PixelCount;
        var pixels = new byte[dataset.Count * size];
        for (var i = 0; i < dataset.Count; i++) dataset.ReadImage(i, pixels.AsSpan(i * size, size));
        return pixels;
    }

    /// <summary>All labels of a data set.</summary>
    public static int[] AllLabels(IImageDataset dataset) => Enumerable.Range(0, dataset.Count).Select(dataset.Label).ToArray();

    /// <summary>A synthetic in-memory data set: image i has a distinct pattern, labels from <paramref name="label"/>.</summary>
    public static InMemoryImageDataset Synthetic(int count, ImageShape shape, int classes, Func<int, int>? label = null) =>
        new(shape, classes, Pixels(count, shape.PixelCount), Enumerable.Range(0, count).Select(label ?? (i => i % classes)).ToArray());
}
