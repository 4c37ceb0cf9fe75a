using Acp.Data;

namespace Acp.Engine.Tests.Data;

/// <summary>Layout detection: IDX and CIFAR folders open by split; anything else says what was expected.</summary>
public sealed class DatasetFolderTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void Idx_folder_opens_each_split()
    {
        DataFiles.WriteIdxPair(_folder.Path, "train", DataFiles.Pixels(6, 9), 3, 3, [0, 1, 2, 0, 1, 2], true, true);
        DataFiles.WriteIdxPair(_folder.Path, "t10k", DataFiles.Pixels(4, 9, salt: 3), 3, 3, [2, 2, 1, 0], true, true);

        var train = DatasetFolder.Open(_folder.Path, DatasetSplit.Train);
        var test = DatasetFolder.Open(_folder.Path, DatasetSplit.Test);

        Assert.Equal(DatasetFormat.Idx, DatasetFolder.DetectFormat(_folder.Path));
        Assert.Equal(6, train.Count);
        Assert.Equal([2, 2, 1, 0], DataFiles.AllLabels(test));
        Assert.Equal(DataFiles.Pixels(4, 9, salt: 3), DataFiles.AllPixels(test));
        Assert.Equal(2, DatasetFolder.Open(_folder.Path, DatasetSplit.Train, limit: 2).Count);
    }

    [Fact]
    public void Only_the_requested_split_is_read()
    {
        DataFiles.WriteIdxPair(_folder.Path, "train", DataFiles.Pixels(6, 9), 3, 3, [0, 1, 2, 0, 1, 2], false, false);
        File.WriteAllBytes(_folder.File("t10k-images-idx3-ubyte.gz"), [1, 2, 3]);
        File.WriteAllBytes(_folder.File("t10k-labels-idx1-ubyte.gz"), [1, 2, 3]);

        Assert.Equal(6, DatasetFolder.Open(_folder.Path, DatasetSplit.Train).Count);
        var e = Assert.Throws<DatasetException>(() => DatasetFolder.Open(_folder.Path, DatasetSplit.Test));
        Assert.Equal(_folder.File("t10k-images-idx3-ubyte.gz"), e.Path);
    }

    [Fact]
    public void Dotted_idx_names_are_accepted()
    {
        File.WriteAllBytes(_folder.File("train-images.idx3-ubyte"), DataFiles.Idx([2, 2, 2], DataFiles.Pixels(2, 4)));
        File.WriteAllBytes(_folder.File("train-labels.idx1-ubyte"), DataFiles.Idx([2], [1, 0]));

        Assert.Equal([1, 0], DataFiles.AllLabels(DatasetFolder.Open(_folder.Path, DatasetSplit.Train)));
    }

    [Fact]
    public void Missing_split_files_are_named()
    {
        DataFiles.WriteIdxPair(_folder.Path, "train", DataFiles.Pixels(6, 9), 3, 3, [0, 1, 2, 0, 1, 2], true, true);

        var e = Assert.Throws<DatasetException>(() => DatasetFolder.Open(_folder.Path, DatasetSplit.Test));

        Assert.Equal(_folder.Path, e.Path);
        Assert.Contains("t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz] are missing", e.Message);
    }

    [Fact]
    public void Cifar10_in_the_archive_subfolder()
    {
        var inner = Directory.CreateDirectory(Path.Combine(_folder.Path, "cifar-10-batches-bin")).FullName;
        for (var b = 1; b <= 5; b++)
        {
            File.WriteAllBytes(Path.Combine(inner, $"data_batch_{b}.bin"), DataFiles.Cifar([(byte)b, (byte)(b - 1)], DataFiles.Pixels(2, CifarDataset.PixelBytes, b)));
        }
        File.WriteAllBytes(Path.Combine(inner, "test_batch.bin"), DataFiles.Cifar([7], DataFiles.Pixels(1, CifarDataset.PixelBytes, 9)));

        var train = DatasetFolder.Open(_folder.Path, DatasetSplit.Train);
        var test = DatasetFolder.Open(_folder.Path, DatasetSplit.Test);

        Assert.Equal(DatasetFormat.Cifar10, DatasetFolder.DetectFormat(_folder.Path));
        Assert.Equal([1, 0, 2, 1, 3, 2, 4, 3, 5, 4], DataFiles.AllLabels(train));
        Assert.Equal([7], DataFiles.AllLabels(test));
        Assert.Equal(10, test.ClassCount);
    }

    [Fact]
    public void Cifar10_with_a_missing_training_batch_is_refused()
    {
        foreach (var b in new[] { 1, 2, 4, 5 })
        {
            File.WriteAllBytes(_folder.File($"data_batch_{b}.bin"), DataFiles.Cifar([1], DataFiles.Pixels(1, CifarDataset.PixelBytes)));
        }

        var e = Assert.Throws<DatasetException>(() => DatasetFolder.Open(_folder.Path, DatasetSplit.Train));

        Assert.Contains("data_batch_3.bin is missing", e.Message);
    }

    [Fact]
    public void Cifar100_folder()
    {
        File.WriteAllBytes(_folder.File("train.bin"), DataFiles.Cifar([42, 7], DataFiles.Pixels(2, CifarDataset.PixelBytes), coarse: [1, 2]));
        File.WriteAllBytes(_folder.File("test.bin"), DataFiles.Cifar([99], DataFiles.Pixels(1, CifarDataset.PixelBytes), coarse: [19]));

        Assert.Equal(DatasetFormat.Cifar100, DatasetFolder.DetectFormat(_folder.Path));
        Assert.Equal([42, 7], DataFiles.AllLabels(DatasetFolder.Open(_folder.Path, DatasetSplit.Train)));
        Assert.Equal(100, DatasetFolder.Open(_folder.Path, DatasetSplit.Test).ClassCount);
    }

    [Fact]
    public void Unrecognised_folder_says_what_was_expected_and_what_was_found()
    {
        File.WriteAllText(_folder.File("notes.txt"), "hi");
        Directory.CreateDirectory(_folder.File("images"));

        var e = Assert.Throws<DatasetException>(() => DatasetFolder.Open(_folder.Path, DatasetSplit.Train));

        Assert.Equal(_folder.Path, e.Path);
        foreach (var expected in new[] { "train-images-idx3-ubyte", "t10k-labels-idx1-ubyte", "data_batch_1.bin", "test_batch.bin", "train.bin", "found images, notes.txt" })
        {
            Assert.Contains(expected, e.Message);
        }
    }

    [Fact]
    public void Empty_and_missing_folders()
    {
        Assert.Contains("the folder is empty", Assert.Throws<DatasetException>(() => DatasetFolder.Open(_folder.Path, DatasetSplit.Train)).Message);
        var missing = _folder.File("nope");
        Assert.Equal($"{missing}: folder not found.", Assert.Throws<DatasetException>(() => DatasetFolder.Open(missing, DatasetSplit.Test)).Message);
    }

    [Fact]
    public void Two_layouts_in_one_folder_are_ambiguous()
    {
        DataFiles.WriteIdxPair(_folder.Path, "train", DataFiles.Pixels(1, 1), 1, 1, [0], false, false);
        File.WriteAllBytes(_folder.File("test_batch.bin"), DataFiles.Cifar([1], DataFiles.Pixels(1, CifarDataset.PixelBytes)));

        Assert.Contains("several layouts", Assert.Throws<DatasetException>(() => DatasetFolder.DetectFormat(_folder.Path)).Message);
    }
}
