using Acp.Data;

namespace Acp.Engine.Tests.Data;

/// <summary>IDX files written here byte by byte, raw and gzip, read back exactly; broken ones fail with the file named.</summary>
public sealed class IdxDatasetTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private static readonly byte[] SevenLabels = [2, 0, 1, 1, 2, 0, 2];

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, true)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void Round_trips_exactly(bool gzipImages, bool gzipLabels)
    {
        var pixels = DataFiles.Pixels(7, 5 * 4);
        var (images, labels) = DataFiles.WriteIdxPair(_folder.Path, "train", pixels, 5, 4, SevenLabels, gzipImages, gzipLabels);

        var dataset = IdxDataset.Load(images, labels);

        Assert.Equal(7, dataset.Count);
        Assert.Equal(7, dataset.FileCount);
        Assert.Equal(new ImageShape(1, 5, 4), dataset.ImageShape);
        Assert.Equal(3, dataset.ClassCount);
        Assert.Equal(pixels, DataFiles.AllPixels(dataset));
        Assert.Equal(SevenLabels.Select(b => (int)b), DataFiles.AllLabels(dataset));
    }

    [Fact]
    public void Limit_reads_a_prefix_and_keeps_the_class_count_of_the_whole_file()
    {
        var pixels = DataFiles.Pixels(7, 3 * 3);
        byte[] labels = [0, 1, 0, 1, 0, 1, 9];
        var (imagesPath, labelsPath) = DataFiles.WriteIdxPair(_folder.Path, "train", pixels, 3, 3, labels, true, true);

        var dataset = IdxDataset.Load(imagesPath, labelsPath, limit: 3);

        Assert.Equal(3, dataset.Count);
        Assert.Equal(7, dataset.FileCount);
        Assert.Equal(10, dataset.ClassCount);
        Assert.Equal(pixels[..27], DataFiles.AllPixels(dataset));
        Assert.Equal([0, 1, 0], DataFiles.AllLabels(dataset));
    }

    [Fact]
    public void Limit_does_not_decompress_the_rest_of_the_images()
    {
        // Incompressible data, then the second half of the gzip stream cut off: a limited read of the first images
        // succeeds because it never gets there, a full read fails.
        const int count = 400, side = 28;
        var random = new Random(5);
        var pixels = new byte[count * side * side];
        random.NextBytes(pixels);
        var labels = Enumerable.Range(0, count).Select(i => (byte)(i % 10)).ToArray();
        var (imagesPath, labelsPath) = DataFiles.WriteIdxPair(_folder.Path, "train", pixels, side, side, labels, true, false);
        var compressed = File.ReadAllBytes(imagesPath);
        File.WriteAllBytes(imagesPath, compressed[..(compressed.Length / 2)]);

        var prefix = IdxDataset.Load(imagesPath, labelsPath, limit: 10);
        Assert.Equal(pixels[..(10 * side * side)], DataFiles.AllPixels(prefix));

        var e = Assert.Throws<DatasetException>(() => IdxDataset.Load(imagesPath, labelsPath));
        Assert.Equal(imagesPath, e.Path);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Bad_magic_names_the_file(bool gzip)
    {
        var (_, labels) = DataFiles.WriteIdxPair(_folder.Path, "train", DataFiles.Pixels(7, 4), 2, 2, SevenLabels, false, false);
        // A labels header where the images header should be.
        var images = DataFiles.Write(_folder.File("images" + (gzip ? ".gz" : "")), DataFiles.Idx([7], new byte[7]), gzip);

        var e = Assert.Throws<DatasetException>(() => IdxDataset.Load(images, labels));

        Assert.Equal(images, e.Path);
        Assert.StartsWith(images + ": bad magic number 0x00000801", e.Message);
        Assert.Contains("0x00000803", e.Message);
    }

    [Fact]
    public void Labels_file_with_images_magic_is_rejected()
    {
        var (images, _) = DataFiles.WriteIdxPair(_folder.Path, "train", DataFiles.Pixels(7, 4), 2, 2, SevenLabels, false, false);
        var labels = DataFiles.Write(_folder.File("labels"), DataFiles.Idx([7, 1, 1], new byte[7]));

        var e = Assert.Throws<DatasetException>(() => IdxDataset.Load(images, labels));

        Assert.Equal(labels, e.Path);
        Assert.Contains("0x00000801", e.Message);
    }

    [Fact]
    public void Text_file_is_not_an_idx_file()
    {
        var (_, labels) = DataFiles.WriteIdxPair(_folder.Path, "train", DataFiles.Pixels(7, 4), 2, 2, SevenLabels, false, false);
        var images = DataFiles.Write(_folder.File("images.txt"), "hello, world\n"u8.ToArray());

        var e = Assert.Throws<DatasetException>(() => IdxDataset.Load(images, labels));

        Assert.Equal(images, e.Path);
        Assert.Contains("not an IDX file", e.Message);
    }

    [Fact]
    public void Float_elements_are_reported_as_unsupported()
    {
        var (_, labels) = DataFiles.WriteIdxPair(_folder.Path, "train", DataFiles.Pixels(7, 4), 2, 2, SevenLabels, false, false);
        var images = DataFiles.Write(_folder.File("images"), DataFiles.Idx([7, 2, 2], new byte[7 * 4 * 4], type: 0x0D));

        var e = Assert.Throws<DatasetException>(() => IdxDataset.Load(images, labels));

        Assert.Contains("float32", e.Message);
    }

    [Theory]
    [InlineData(false, 1)]
    [InlineData(false, 50)]
    [InlineData(false, 180)]
    [InlineData(true, 1)]
    [InlineData(true, 50)]
    [InlineData(true, 180)]
    public void Truncated_images_name_the_file(bool gzip, int cut)
    {
        var (_, labels) = DataFiles.WriteIdxPair(_folder.Path, "train", DataFiles.Pixels(7, 25), 5, 5, SevenLabels, false, false);
        var full = DataFiles.Idx([7, 5, 5], DataFiles.Pixels(7, 25));
        // Raw: drop bytes of the data (or of the header for the big cut). Gzip: compress the truncated bytes, so the
        // gzip stream is valid but the IDX content is short.
        var images = DataFiles.Write(_folder.File("images" + (gzip ? ".gz" : "")), full[..^cut], gzip);

        var e = Assert.Throws<DatasetException>(() => IdxDataset.Load(images, labels));

        Assert.Equal(images, e.Path);
        Assert.Contains("truncated", e.Message);
    }

    [Theory]
    [InlineData(10)]
    [InlineData(30)]
    [InlineData(60)]
    public void Cut_gzip_stream_names_the_file(int keepPercent)
    {
        var (_, labels) = DataFiles.WriteIdxPair(_folder.Path, "train", DataFiles.Pixels(7, 400), 20, 20, SevenLabels, false, false);
        var compressed = DataFiles.Gzip(DataFiles.Idx([7, 20, 20], DataFiles.Pixels(7, 400)));
        var images = DataFiles.Write(_folder.File("images.gz"), compressed[..(compressed.Length * keepPercent / 100)]);

        var e = Assert.Throws<DatasetException>(() => IdxDataset.Load(images, labels));

        Assert.Equal(images, e.Path);
    }

    [Fact]
    public void Corrupt_gzip_data_names_the_file()
    {
        var (_, labels) = DataFiles.WriteIdxPair(_folder.Path, "train", DataFiles.Pixels(7, 400), 20, 20, SevenLabels, false, false);
        var compressed = DataFiles.Gzip(DataFiles.Idx([7, 20, 20], DataFiles.Pixels(7, 400)));
        for (var i = 12; i < compressed.Length - 8; i += 7) compressed[i] ^= 0x5A;
        var images = DataFiles.Write(_folder.File("images.gz"), compressed);

        var e = Assert.Throws<DatasetException>(() => IdxDataset.Load(images, labels));

        Assert.Equal(images, e.Path);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Trailing_bytes_are_rejected(bool gzip)
    {
        var (_, labels) = DataFiles.WriteIdxPair(_folder.Path, "train", DataFiles.Pixels(7, 4), 2, 2, SevenLabels, false, false);
        var images = DataFiles.Write(_folder.File("images"), [.. DataFiles.Idx([7, 2, 2], DataFiles.Pixels(7, 4)), 1, 2, 3], gzip);

        var e = Assert.Throws<DatasetException>(() => IdxDataset.Load(images, labels));

        Assert.Equal(images, e.Path);
        Assert.Contains("unexpected bytes", e.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Count_mismatch_names_both_files(bool gzip)
    {
        var images = DataFiles.Write(_folder.File("images"), DataFiles.Idx([7, 2, 2], DataFiles.Pixels(7, 4)), gzip);
        var labels = DataFiles.Write(_folder.File("labels"), DataFiles.Idx([6], new byte[6]), gzip);

        var e = Assert.Throws<DatasetException>(() => IdxDataset.Load(images, labels));

        Assert.Equal(labels, e.Path);
        Assert.Equal($"{labels}: holds 6 labels but the images file {images} holds 7 images; are they from the same split?", e.Message);
    }

    [Fact]
    public void Hostile_header_in_small_gzip_fails_before_allocating()
    {
        var (_, labels) = DataFiles.WriteIdxPair(_folder.Path, "train", DataFiles.Pixels(7, 4), 2, 2, SevenLabels, false, false);
        var images = DataFiles.Write(_folder.File("images.gz"), DataFiles.Idx([7, 30000, 10000], new byte[100]), gzip: true);

        var before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<DatasetException>(() => IdxDataset.Load(images, labels));

        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 16 << 20, "allocated as much as the header claimed");
        Assert.Equal(images, e.Path);
        Assert.Contains("header is corrupt", e.Message);
    }

    [Fact]
    public void Zero_sized_images_are_rejected()
    {
        var (_, labels) = DataFiles.WriteIdxPair(_folder.Path, "train", DataFiles.Pixels(7, 4), 2, 2, SevenLabels, false, false);
        var images = DataFiles.Write(_folder.File("images"), DataFiles.Idx([7, 0, 2], []));

        var e = Assert.Throws<DatasetException>(() => IdxDataset.Load(images, labels));

        Assert.Equal(images, e.Path);
    }

    [Fact]
    public void Labels_beyond_the_given_class_count_are_rejected()
    {
        var (images, labels) = DataFiles.WriteIdxPair(_folder.Path, "train", DataFiles.Pixels(7, 4), 2, 2, SevenLabels, false, true);

        var e = Assert.Throws<DatasetException>(() => IdxDataset.Load(images, labels, classCount: 2));

        Assert.Equal($"{labels}: label 0 is 2, outside the 2 classes expected (0..1).", e.Message);
        Assert.Equal(5, IdxDataset.Load(images, labels, classCount: 5).ClassCount);
    }

    [Fact]
    public void Missing_file_is_named()
    {
        var (images, _) = DataFiles.WriteIdxPair(_folder.Path, "train", DataFiles.Pixels(7, 4), 2, 2, SevenLabels, false, false);
        var missing = _folder.File("no-such-labels");

        var e = Assert.Throws<DatasetException>(() => IdxDataset.Load(images, missing));

        Assert.Equal($"{missing}: file not found.", e.Message);
    }
}
