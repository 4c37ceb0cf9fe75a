using Acp.Data;

namespace Acp.Engine.Tests.Data;

/// <summary>CIFAR binary files written here read back exactly; wrong sizes and labels fail with the file named.</summary>
public sealed class CifarDatasetTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void Cifar10_batches_concatenate_in_order()
    {
        var first = DataFiles.Pixels(3, CifarDataset.PixelBytes, salt: 1);
        var second = DataFiles.Pixels(2, CifarDataset.PixelBytes, salt: 2);
        var a = DataFiles.Write(_folder.File("data_batch_1.bin"), DataFiles.Cifar([9, 0, 4], first));
        var b = DataFiles.Write(_folder.File("data_batch_2.bin"), DataFiles.Cifar([7, 3], second));

        var dataset = CifarDataset.LoadCifar10([a, b]);

        Assert.Equal(DatasetFormat.Cifar10, dataset.Format);
        Assert.Equal(5, dataset.Count);
        Assert.Equal(new ImageShape(3, 32, 32), dataset.ImageShape);
        Assert.Equal(10, dataset.ClassCount);
        Assert.Equal([9, 0, 4, 7, 3], DataFiles.AllLabels(dataset));
        Assert.Equal([.. first, .. second], DataFiles.AllPixels(dataset));
        Assert.Equal([a, b], dataset.Files);
    }

    [Fact]
    public void Cifar100_uses_the_fine_label()
    {
        var pixels = DataFiles.Pixels(4, CifarDataset.PixelBytes);
        var file = DataFiles.Write(_folder.File("train.bin"), DataFiles.Cifar(labels: [99, 0, 57, 12], pixels, coarse: [19, 0, 3, 7]));

        var dataset = CifarDataset.LoadCifar100(file);

        Assert.Equal(DatasetFormat.Cifar100, dataset.Format);
        Assert.Equal(100, dataset.ClassCount);
        Assert.Equal([99, 0, 57, 12], DataFiles.AllLabels(dataset));
        Assert.Equal(pixels, DataFiles.AllPixels(dataset));
    }

    [Fact]
    public void Limit_stops_reading_within_and_across_files()
    {
        var a = DataFiles.Write(_folder.File("data_batch_1.bin"), DataFiles.Cifar([1, 2, 3], DataFiles.Pixels(3, CifarDataset.PixelBytes, 1)));
        var b = DataFiles.Write(_folder.File("data_batch_2.bin"), DataFiles.Cifar([4, 5], DataFiles.Pixels(2, CifarDataset.PixelBytes, 2)));

        var two = CifarDataset.LoadCifar10([a, b], limit: 2);
        var four = CifarDataset.LoadCifar10([a, b], limit: 4);

        Assert.Equal([1, 2], DataFiles.AllLabels(two));
        Assert.Equal([a], two.Files);
        Assert.Equal([1, 2, 3, 4], DataFiles.AllLabels(four));
        Assert.Equal(DataFiles.Pixels(3, CifarDataset.PixelBytes, 1)[..(2 * CifarDataset.PixelBytes)], DataFiles.AllPixels(two));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3073 * 2 + 1)]
    [InlineData(3073 * 2 - 5)]
    public void Size_not_a_whole_number_of_records_names_the_file(int size)
    {
        var file = DataFiles.Write(_folder.File("data_batch_1.bin"), new byte[size]);

        var e = Assert.Throws<DatasetException>(() => CifarDataset.LoadCifar10([file]));

        Assert.Equal(file, e.Path);
        Assert.Contains("3073-byte", e.Message);
    }

    [Fact]
    public void Cifar100_file_given_as_cifar10_gets_a_hint()
    {
        var file = DataFiles.Write(_folder.File("data_batch_1.bin"), DataFiles.Cifar([1, 2, 3], DataFiles.Pixels(3, CifarDataset.PixelBytes), coarse: [0, 0, 0]));

        var e = Assert.Throws<DatasetException>(() => CifarDataset.LoadCifar10([file]));

        Assert.Contains("is it a CIFAR-100 file?", e.Message);
    }

    [Fact]
    public void Out_of_range_labels_name_the_file_and_record()
    {
        var file = DataFiles.Write(_folder.File("test_batch.bin"), DataFiles.Cifar([1, 10], DataFiles.Pixels(2, CifarDataset.PixelBytes)));
        var file100 = DataFiles.Write(_folder.File("test.bin"), DataFiles.Cifar([1, 100], DataFiles.Pixels(2, CifarDataset.PixelBytes), coarse: [0, 0]));
        var coarse100 = DataFiles.Write(_folder.File("train.bin"), DataFiles.Cifar([1, 2], DataFiles.Pixels(2, CifarDataset.PixelBytes), coarse: [20, 0]));

        Assert.Equal($"{file}: record 1 has label 10; CIFAR-10 labels are 0..9.",
            Assert.Throws<DatasetException>(() => CifarDataset.LoadCifar10([file])).Message);
        Assert.Equal($"{file100}: record 1 has fine label 100; CIFAR-100 fine labels are 0..99.",
            Assert.Throws<DatasetException>(() => CifarDataset.LoadCifar100(file100)).Message);
        Assert.Equal($"{coarse100}: record 0 has coarse label 20; CIFAR-100 coarse labels are 0..19.",
            Assert.Throws<DatasetException>(() => CifarDataset.LoadCifar100(coarse100)).Message);
    }

    [Fact]
    public void Missing_file_is_named()
    {
        var missing = _folder.File("data_batch_9.bin");
        Assert.Equal($"{missing}: file not found.", Assert.Throws<DatasetException>(() => CifarDataset.LoadCifar10([missing])).Message);
    }
}
