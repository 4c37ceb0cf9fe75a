using System.Buffers.Binary;
using System.IO.Compression;
using Acp.Data;
using Acp.Pruning.Tests.Pipeline;

namespace Acp.Cli.Tests;

/// <summary>Writes a small Fashion-MNIST copy (IDX, gzip) so CLI runs read a few thousand images, not 70,000.</summary>
internal static class SmallIdxData
{
    public static string Write(string folder, int train = 4000, int test = 1000)
    {
        Directory.CreateDirectory(folder);
        Copy(DatasetFolder.Open(TrainedSmallCnn.FashionMnist, DatasetSplit.Train, train), folder, "train");
        Copy(DatasetFolder.Open(TrainedSmallCnn.FashionMnist, DatasetSplit.Test, test), folder, "t10k");
        return folder;
    }

    /// <summary>A data set of <paramref name="count"/> random images of <paramref name="size"/>×<paramref name="size"/> pixels per split, labels 0-9.</summary>
    public static string WriteRandom(string folder, int size, int count = 1000)
    {
        Directory.CreateDirectory(folder);
        var random = new Random(0);
        foreach (var prefix in new[] { "train", "t10k" })
        {
            using (var images = Gzip(Path.Combine(folder, $"{prefix}-images-idx3-ubyte.gz")))
            {
                Header(images, 0x00000803, count, size, size);
                var pixels = new byte[count * size * size];
                random.NextBytes(pixels);
                images.Write(pixels);
            }
            using var labels = Gzip(Path.Combine(folder, $"{prefix}-labels-idx1-ubyte.gz"));
            Header(labels, 0x00000801, count);
            for (var i = 0; i < count; i++) labels.WriteByte((byte)(i % 10));
        }
        return folder;
    }

    private static void Copy(IImageDataset data, string folder, string prefix)
    {
        var shape = data.ImageShape;
        var pixels = new byte[shape.PixelCount];
        using (var images = Gzip(Path.Combine(folder, $"{prefix}-images-idx3-ubyte.gz")))
        {
            Header(images, 0x00000803, data.Count, shape.Height, shape.Width);
            for (var i = 0; i < data.Count; i++)
            {
                data.ReadImage(i, pixels);
                images.Write(pixels);
            }
        }
        using var labels = Gzip(Path.Combine(folder, $"{prefix}-labels-idx1-ubyte.gz"));
        Header(labels, 0x00000801, data.Count);
        for (var i = 0; i < data.Count; i++) labels.WriteByte((byte)data.Label(i));
    }

    private static GZipStream Gzip(string path) => new(File.Create(path), CompressionLevel.Fastest);

    private static void Header(Stream stream, int magic, params int[] dims)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, magic);
        stream.Write(word);
        foreach (var d in dims)
        {
            BinaryPrimitives.WriteInt32BigEndian(word, d);
            stream.Write(word);
        }
    }
}
