using System.IO.Compression;
using Acp.Data;

namespace Acp.Engine.Tests.Data;

/// <summary>Loads Fashion-MNIST once for the tests of one class (the training images are 47 MB decompressed).</summary>
public sealed class FashionMnistFixture
{
    /// <summary>Where Debian's dataset-fashion-mnist package installs the files (scripts/setup.sh installs it).</summary>
    public const string Folder = "/usr/share/datasets/fashion-mnist";

    private readonly Lazy<IImageDataset> _train = new(() => DatasetFolder.Open(RequireFolder(), DatasetSplit.Train));
    private readonly Lazy<IImageDataset> _test = new(() => DatasetFolder.Open(RequireFolder(), DatasetSplit.Test));

    /// <summary>The training split.</summary>
    public IImageDataset Train => _train.Value;

    /// <summary>The test split.</summary>
    public IImageDataset Test => _test.Value;

    /// <summary>The folder, or a failure saying how to get it.</summary>
    public static string RequireFolder()
    {
        if (!File.Exists(Path.Combine(Folder, "train-images-idx3-ubyte.gz")))
        {
            throw new InvalidOperationException($"Fashion-MNIST is missing from {Folder}; run scripts/setup.sh (Debian package dataset-fashion-mnist).");
        }
        return Folder;
    }

    /// <summary>The first <paramref name="count"/> decompressed bytes of a file, read without the library's code.</summary>
    public static byte[] DecompressedPrefix(string name, int count)
    {
        using var gzip = new GZipStream(File.OpenRead(Path.Combine(RequireFolder(), name)), CompressionMode.Decompress);
        var bytes = new byte[count];
        gzip.ReadExactly(bytes);
        return bytes;
    }
}

/// <summary>The real Fashion-MNIST files: sizes, classes, balance, and agreement with an independent read.</summary>
public sealed class FashionMnistTests(FashionMnistFixture data) : IClassFixture<FashionMnistFixture>
{
    [Fact]
    public void Detected_as_idx() => Assert.Equal(DatasetFormat.Idx, DatasetFolder.DetectFormat(FashionMnistFixture.RequireFolder()));

    [Fact]
    public void Train_has_60000_images_of_28x28_in_10_classes()
    {
        Assert.Equal(60000, data.Train.Count);
        Assert.Equal(new ImageShape(1, 28, 28), data.Train.ImageShape);
        Assert.Equal(10, data.Train.ClassCount);
        Assert.All(data.Train.LabelHistogram(), n => Assert.Equal(6000, n));
    }

    [Fact]
    public void Test_has_10000_images_1000_per_class()
    {
        Assert.Equal(10000, data.Test.Count);
        Assert.Equal(new ImageShape(1, 28, 28), data.Test.ImageShape);
        Assert.Equal(10, data.Test.ClassCount);
        Assert.Equal(Enumerable.Repeat(1000, 10), data.Test.LabelHistogram());
    }

    [Fact]
    public void First_label_and_image_match_the_raw_bytes()
    {
        // IDX labels: 8 header bytes (magic, count), then one byte per image. Images: 16 header bytes, then 784 per image.
        var labelBytes = FashionMnistFixture.DecompressedPrefix("train-labels-idx1-ubyte.gz", 9);
        var imageBytes = FashionMnistFixture.DecompressedPrefix("train-images-idx3-ubyte.gz", 16 + 2 * 784);

        Assert.Equal(labelBytes[8], data.Train.Label(0));
        var first = new byte[784];
        data.Train.ReadImage(0, first);
        Assert.Equal(imageBytes[16..(16 + 784)], first);
        data.Train.ReadImage(1, first);
        Assert.Equal(imageBytes[(16 + 784)..], first);
    }

    [Fact]
    public void Limited_open_matches_the_full_one()
    {
        var head = DatasetFolder.Open(FashionMnistFixture.RequireFolder(), DatasetSplit.Train, limit: 500);

        Assert.Equal(500, head.Count);
        Assert.Equal(10, head.ClassCount);
        Assert.Equal(DataFiles.AllPixels(data.Train.Take(500)), DataFiles.AllPixels(head));
        Assert.Equal(DataFiles.AllLabels(data.Train.Take(500)), DataFiles.AllLabels(head));
    }

    [Fact]
    public void Measured_statistics_match_the_preset()
    {
        var measured = ChannelNormalization.Compute(data.Train);

        Assert.Equal(ChannelNormalization.FashionMnist.Mean[0], measured.Mean[0], 3e-4f);
        Assert.Equal(ChannelNormalization.FashionMnist.Std[0], measured.Std[0], 3e-4f);
    }

    [Fact]
    public void Stratified_validation_split_keeps_the_balance()
    {
        var (train, validation) = data.Train.TrainValidationSplit(0.1, seed: 7);

        Assert.Equal(54000, train.Count);
        Assert.All(validation.LabelHistogram(), n => Assert.Equal(600, n));
    }

    [Fact]
    public void Loader_produces_normalised_batches()
    {
        var loader = new BatchLoader(data.Test, new BatchLoaderOptions { BatchSize = 256, Normalization = ChannelNormalization.FashionMnist });

        var batches = 0;
        double sum = 0, squares = 0;
        long n = 0;
        foreach (var batch in loader.GetBatches(0))
        {
            batches++;
            foreach (var x in batch.ImageSpan)
            {
                sum += x;
                squares += x * x;
            }
            n += batch.ImageSpan.Length;
        }

        Assert.Equal(40, batches);
        Assert.Equal(10000L * 784, n);
        // Test-set statistics are close to, not equal to, the training ones.
        Assert.InRange(sum / n, -0.05, 0.05);
        Assert.InRange(Math.Sqrt(squares / n - sum / n * (sum / n)), 0.95, 1.05);
    }
}
