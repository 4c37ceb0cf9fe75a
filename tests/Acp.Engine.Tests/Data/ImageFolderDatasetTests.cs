using Acp.Data;
using Acp.Data.Images;

namespace Acp.Engine.Tests.Data;

/// <summary>
/// Folder-per-class data sets built from the generated PNGs and JPEGs (all 10 rows × 12 columns): class list and
/// labels, file order, splits, shapes and conversions against PIL's pixels, errors, and use through
/// <see cref="BatchLoader"/>.
/// </summary>
public sealed class ImageFolderDatasetTests : IDisposable
{
    private readonly TempFolder _root = new();

    public void Dispose() => _root.Dispose();

    /// <summary>
    /// train: cat/B.png (RGB), cat/a.png (grey), dog/sub/y.PNG (grey), dog/x.jpg (RGB JPEG), emu/z.jpeg (a PNG named
    /// .jpeg), plus a text file, a hidden file and a hidden folder to skip; val: cat/c.png, fox/f.jpg (grey JPEG).
    /// </summary>
    private (string[] Train, string[] Val) BuildStandardLayout()
    {
        string[] train =
        [
            Put("train/cat/B.png", "uniform/u1.png"), Put("train/cat/a.png", "uniform/u0.png"),
            Put("train/dog/sub/y.PNG", "uniform/u3.png"), Put("train/dog/x.jpg", "uniform/j0.jpg"),
            Put("train/emu/z.jpeg", "uniform/u4.png"),
        ];
        File.WriteAllText(_root.File("train/cat/notes.txt"), "not an image");
        File.WriteAllText(_root.File("train/cat/.hidden.png"), "not an image either, and hidden");
        Put("train/.ipynb_checkpoints/z.png", "uniform/u2.png");
        string[] val = [Put("val/cat/c.png", "uniform/u5.png"), Put("val/fox/f.jpg", "uniform/j1.jpg")];
        return (train, val);
    }

    private static readonly string[] TrainSources = ["uniform/u1.png", "uniform/u0.png", "uniform/u3.png", "uniform/j0.jpg", "uniform/u4.png"];

    [Fact]
    public void Classes_come_from_both_splits_and_files_are_sorted_ordinally()
    {
        var (trainFiles, valFiles) = BuildStandardLayout();

        var train = ImageFolderDataset.Open(_root.Path, DatasetSplit.Train);
        var test = ImageFolderDataset.Open(_root.Path, DatasetSplit.Test);

        Assert.Equal(["cat", "dog", "emu", "fox"], train.Classes);
        Assert.Equal(train.Classes, test.Classes);
        Assert.Equal(4, train.ClassCount);
        // "B.png" before "a.png" (ordinal, not culture order); "sub/y.PNG" before "x.jpg" ('s' < 'x').
        Assert.Equal(trainFiles, train.Files);
        Assert.Equal([0, 0, 1, 1, 2], DataFiles.AllLabels(train));
        Assert.Equal(valFiles, test.Files);
        Assert.Equal([0, 3], DataFiles.AllLabels(test));
        Assert.Equal(_root.File("val"), test.SplitFolder);
        Assert.Equal(new ImageShape(3, 10, 12), train.ImageShape);
    }

    [Fact]
    public void DatasetFolder_recognises_the_layout()
    {
        BuildStandardLayout();

        var test = DatasetFolder.Open(_root.Path, DatasetSplit.Test, imageOptions: new ImageFolderOptions { Channels = 1 });

        Assert.Equal(DatasetFormat.ImageFolder, DatasetFolder.DetectFormat(_root.Path));
        Assert.Equal([0, 3], DataFiles.AllLabels(test));
        Assert.Equal(new ImageShape(1, 10, 12), test.ImageShape);
        Assert.Equal(1, DatasetFolder.Open(_root.Path, DatasetSplit.Train, limit: 1).Count);
    }

    [Fact]
    public void Unrecognised_folders_mention_the_image_folder_layout()
    {
        Directory.CreateDirectory(_root.File("train/cat"));
        File.WriteAllText(_root.File("train/cat/readme.txt"), "no images here");

        var e = Assert.Throws<DatasetException>(() => DatasetFolder.Open(_root.Path, DatasetSplit.Train));

        Assert.Contains("train/<class>/*.png|*.jpg|*.jpeg", e.Message);
    }

    [Fact]
    public void Pixels_are_PILs_in_rgb_and_in_grey()
    {
        BuildStandardLayout();

        var rgb = ImageFolderDataset.Open(_root.Path, DatasetSplit.Train);
        var gray = ImageFolderDataset.Open(_root.Path, DatasetSplit.Train, new ImageFolderOptions { Channels = 1 });

        Assert.Equal(TrainSources.SelectMany(s => ImageFixtures.ToChw(ImageFixtures.Case(s).Rgb, 10, 12, 3)).ToArray(), DataFiles.AllPixels(rgb));
        Assert.Equal(TrainSources.SelectMany(s => ImageFixtures.Case(s).Gray).ToArray(), DataFiles.AllPixels(gray));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void A_target_size_resizes_and_crops_as_PIL_does(int channels)
    {
        BuildStandardLayout();

        var dataset = ImageFolderDataset.Open(_root.Path, DatasetSplit.Train, new ImageFolderOptions { Height = 7, Width = 9, Channels = channels });

        Assert.Equal(new ImageShape(channels, 7, 9), dataset.ImageShape);
        Assert.Equal(TrainSources.SelectMany(s => ImageFixtures.Case(s).Resized[$"{channels}x7x9"]).ToArray(), DataFiles.AllPixels(dataset));
    }

    [Fact]
    public void Channels_default_to_the_first_image()
    {
        Put("train/a/0.png", "uniform/u0.png"); // grey
        Put("train/a/1.png", "uniform/u1.png"); // RGB
        Put("test/a/0.png", "uniform/u1.png");

        Assert.Equal(1, ImageFolderDataset.Open(_root.Path, DatasetSplit.Train).ImageShape.Channels);
        Assert.Equal(3, ImageFolderDataset.Open(_root.Path, DatasetSplit.Test).ImageShape.Channels);
        Assert.Equal(ImageFixtures.Case("uniform/u1.png").Gray, Read(ImageFolderDataset.Open(_root.Path, DatasetSplit.Train), 1));
    }

    [Fact]
    public void Test_is_preferred_to_val()
    {
        BuildStandardLayout();
        var file = Put("test/cat/t.png", "uniform/u2.png");

        var test = ImageFolderDataset.Open(_root.Path, DatasetSplit.Test);

        Assert.Equal(_root.File("test"), test.SplitFolder);
        Assert.Equal([file], test.Files);
        // The classes of val no longer count: only train and the chosen test folder do.
        Assert.Equal(["cat", "dog", "emu"], test.Classes);
    }

    [Fact]
    public void Images_of_another_size_need_a_target_size()
    {
        BuildStandardLayout();
        var odd = Put("train/cat/C.png", "uniform/other_size.png");

        var dataset = ImageFolderDataset.Open(_root.Path, DatasetSplit.Train);
        var index = dataset.Files.ToList().IndexOf(odd);
        var e = Assert.Throws<DatasetException>(() => Read(dataset, index));
        var resized = ImageFolderDataset.Open(_root.Path, DatasetSplit.Train, new ImageFolderOptions { Height = 10, Width = 12 });

        Assert.Equal(odd, e.Path);
        Assert.Contains("is 9×9 pixels (height×width) but the data set's images are 10×12", e.Message);
        Assert.Contains(_root.File("train/cat/B.png"), e.Message);
        Assert.Equal(3 * 10 * 12, Read(resized, index).Length);
        Assert.Equal(ImageFixtures.ToChw(ImageFixtures.Case("uniform/u0.png").Rgb, 10, 12, 3), Read(dataset, index + 1));
    }

    [Fact]
    public void A_limit_keeps_the_first_images()
    {
        var (train, _) = BuildStandardLayout();

        var dataset = ImageFolderDataset.Open(_root.Path, DatasetSplit.Train, limit: 3);

        Assert.Equal(train[..3], dataset.Files);
        Assert.Equal(3, dataset.Count);
        Assert.Equal(5, dataset.FileCount);
        Assert.Equal(4, dataset.ClassCount);
    }

    [Fact]
    public void Reads_are_deterministic_and_thread_safe()
    {
        BuildStandardLayout();
        var first = ImageFolderDataset.Open(_root.Path, DatasetSplit.Train);
        var expected = DataFiles.AllPixels(first);
        var size = first.ImageShape.PixelCount;

        var again = ImageFolderDataset.Open(_root.Path, DatasetSplit.Train);
        var parallel = new byte[8][];
        Parallel.For(0, parallel.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 }, round =>
        {
            var pixels = new byte[expected.Length];
            // Each round reads in a different order, so decodes of different files overlap.
            for (var k = 0; k < first.Count; k++)
            {
                var i = (k + round) % first.Count;
                first.ReadImage(i, pixels.AsSpan(i * size, size));
            }
            parallel[round] = pixels;
        });

        Assert.Equal(first.Files, again.Files);
        Assert.Equal(expected, DataFiles.AllPixels(again));
        Assert.All(parallel, p => Assert.Equal(expected, p));
    }

    [Fact]
    public void BatchLoader_reads_it()
    {
        BuildStandardLayout();
        var dataset = ImageFolderDataset.Open(_root.Path, DatasetSplit.Train, new ImageFolderOptions { Channels = 1 });
        var loader = new BatchLoader(dataset, new BatchLoaderOptions { BatchSize = 2 });

        var labels = new List<int>();
        var images = new List<float>();
        foreach (var batch in loader.GetBatches(epoch: 0))
        {
            labels.AddRange(batch.Labels.Take(batch.Count));
            images.AddRange(batch.Images.Take(batch.Count * 120));
        }

        Assert.Equal(3, loader.BatchCount);
        Assert.Equal([0, 0, 1, 1, 2], labels);
        var expected = TrainSources.SelectMany(s => ImageFixtures.Case(s).Gray).Select(p => p / 255f).ToArray();
        Assert.Equal(expected.Length, images.Count);
        for (var i = 0; i < expected.Length; i++) Assert.Equal(expected[i], images[i], 1e-6f);
    }

    [Fact]
    public void Png_data_sets_need_no_jpeg_library()
    {
        var missing = TurboJpegLibrary.Load(["libacp-no-such-turbojpeg.so.9"]);
        Put("train/a/0.png", "uniform/u0.png");
        Put("train/b/1.png", "uniform/u1.png");
        Put("test/a/0.png", "uniform/u2.png");
        var jpeg = Put("test/b/1.jpg", "uniform/j0.jpg");

        var train = ImageFolderDataset.Open(_root.Path, DatasetSplit.Train, null, null, () => throw new InvalidOperationException("the JPEG library was asked for"));
        var test = ImageFolderDataset.Open(_root.Path, DatasetSplit.Test, null, null, () => missing);

        Assert.Equal(2, DataFiles.AllPixels(train).Length / train.ImageShape.PixelCount);
        Assert.Equal(ImageFixtures.ToChw(ImageFixtures.Case("uniform/u2.png").Rgb, 10, 12, 3), Read(test, 0));
        var e = Assert.Throws<DatasetException>(() => Read(test, 1));
        Assert.Equal(jpeg, e.Path);
        Assert.Contains("Debian package libturbojpeg0", e.Message);
    }

    [Fact]
    public void A_corrupt_file_is_named_when_read()
    {
        Put("train/a/0.png", "uniform/u0.png");
        var bad = Put("train/a/1.png", "corrupt/bad_crc.png");

        var dataset = ImageFolderDataset.Open(_root.Path, DatasetSplit.Train);
        var e = Assert.Throws<DatasetException>(() => Read(dataset, 1));

        Assert.Equal(bad, e.Path);
        Assert.Contains("CRC", e.Message);
    }

    [Fact]
    public void Missing_splits_are_named()
    {
        Put("val/a/0.png", "uniform/u0.png");
        var noTrain = Assert.Throws<DatasetException>(() => ImageFolderDataset.Open(_root.Path, DatasetSplit.Train));
        Directory.Delete(_root.File("val"), recursive: true);
        Put("train/a/0.png", "uniform/u0.png");
        var noTest = Assert.Throws<DatasetException>(() => ImageFolderDataset.Open(_root.Path, DatasetSplit.Test));

        Assert.Equal(_root.Path, noTrain.Path);
        Assert.Contains("no train folder", noTrain.Message);
        Assert.Equal(_root.Path, noTest.Path);
        Assert.Contains("neither a test nor a val folder", noTest.Message);
    }

    [Fact]
    public void Images_outside_class_folders_get_a_hint()
    {
        Put("train/0.png", "uniform/u0.png");

        var e = Assert.Throws<DatasetException>(() => ImageFolderDataset.Open(_root.Path, DatasetSplit.Train));

        Assert.Equal(_root.File("train"), e.Path);
        Assert.Contains("holds no class folders", e.Message);
        Assert.Contains("move into a subfolder named after their class", e.Message);
    }

    [Fact]
    public void Class_folders_without_images_are_refused()
    {
        Directory.CreateDirectory(_root.File("train/a"));
        File.WriteAllText(_root.File("train/a/list.csv"), "x");
        Put("test/a/0.png", "uniform/u0.png");

        var e = Assert.Throws<DatasetException>(() => ImageFolderDataset.Open(_root.Path, DatasetSplit.Train));

        Assert.Equal(_root.File("train"), e.Path);
        Assert.Contains("holds no images (.png, .jpg, .jpeg) in its class folders (a)", e.Message);
    }

    [Theory]
    [InlineData(7, null, null)]
    [InlineData(null, 7, null)]
    [InlineData(0, 7, null)]
    [InlineData(7, 20000, null)]
    [InlineData(7, 7, 2)]
    [InlineData(null, null, 4)]
    public void Inconsistent_options_are_refused(int? height, int? width, int? channels)
    {
        Put("train/a/0.png", "uniform/u0.png");

        Assert.Throws<ArgumentException>(() =>
            ImageFolderDataset.Open(_root.Path, DatasetSplit.Train, new ImageFolderOptions { Height = height, Width = width, Channels = channels }));
    }

    private static byte[] Read(IImageDataset dataset, int index)
    {
        var pixels = new byte[dataset.ImageShape.PixelCount];
        dataset.ReadImage(index, pixels);
        return pixels;
    }

    /// <summary>Copies a generated file to <paramref name="relative"/> under the root and returns its full path.</summary>
    private string Put(string relative, string fixture)
    {
        var target = Path.Combine(_root.Path, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        File.Copy(ImageFixtures.PathOf(fixture), target);
        return target;
    }
}
