namespace Acp.Data;

/// <summary>
/// Opens a data set from a folder by recognising the files the publishers distribute, so users can point Acp at
/// whatever they downloaded and extracted without naming individual files.
/// </summary>
/// <remarks>
/// Recognised layouts, looked for in the folder itself and then in the subfolder the official archive extracts to:
/// <list type="bullet">
/// <item>IDX (MNIST, Fashion-MNIST): <c>train-images-idx3-ubyte</c>, <c>train-labels-idx1-ubyte</c>,
/// <c>t10k-images-idx3-ubyte</c>, <c>t10k-labels-idx1-ubyte</c>, each optionally <c>.gz</c>; the
/// <c>train-images.idx3-ubyte</c> spelling of some mirrors is accepted too.</item>
/// <item>CIFAR-10 binary: <c>data_batch_1.bin</c> … <c>data_batch_5.bin</c>, <c>test_batch.bin</c>
/// (subfolder <c>cifar-10-batches-bin</c>).</item>
/// <item>CIFAR-100 binary: <c>train.bin</c>, <c>test.bin</c> (subfolder <c>cifar-100-binary</c>).</item>
/// <item>Image folder: <c>train/&lt;class&gt;/*.png|*.jpg|*.jpeg</c> and <c>test/&lt;class&gt;/…</c> or
/// <c>val/&lt;class&gt;/…</c>; see <see cref="ImageFolderDataset"/>.</item>
/// </list>
/// Only the requested split's files are read.
/// </remarks>
public static class DatasetFolder
{
    private static readonly string[] KnownSubfolders = ["cifar-10-batches-bin", "cifar-100-binary"];

    private const string Expected =
        "expected IDX files (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, " +
        "each optionally .gz: MNIST, Fashion-MNIST), CIFAR-10 binary batches (data_batch_1.bin … data_batch_5.bin, test_batch.bin) " +
        "or CIFAR-100 binary files (train.bin, test.bin), in the folder or its cifar-10-batches-bin or cifar-100-binary subfolder, " +
        "or an image folder (train/<class>/*.png|*.jpg|*.jpeg and test/<class>/… or val/<class>/…)";

    /// <summary>Opens the <paramref name="split"/> part of the data set in <paramref name="path"/>.</summary>
    /// <param name="path">The folder.</param>
    /// <param name="split">Training or test part.</param>
    /// <param name="limit">Read at most this many images (the first ones); the rest are not decoded.</param>
    /// <param name="imageOptions">
    /// Size and channels for an image folder, whose images may differ in both (null: those of the first image); the
    /// other layouts have a fixed shape and ignore it.
    /// </param>
    /// <exception cref="DatasetException">
    /// The folder is missing, holds no recognised layout (the message lists what was expected and what was found),
    /// holds more than one, lacks a file of the split, or a file is corrupt.
    /// </exception>
    public static IImageDataset Open(string path, DatasetSplit split, int? limit = null, ImageFolderOptions? imageOptions = null)
    {
        var (format, folder) = Locate(path);
        return format switch
        {
            DatasetFormat.Idx => OpenIdx(folder, split, limit),
            DatasetFormat.Cifar10 => CifarDataset.LoadCifar10(Cifar10Files(folder, split), limit),
            DatasetFormat.Cifar100 => CifarDataset.LoadCifar100(Require(folder, split == DatasetSplit.Train ? "train.bin" : "test.bin", "CIFAR-100", split), limit),
            _ => ImageFolderDataset.Open(folder, split, imageOptions, limit),
        };
    }

    /// <summary>Which layout the folder holds, without reading any data.</summary>
    /// <exception cref="DatasetException">The folder is missing or holds no (or more than one) recognised layout.</exception>
    public static DatasetFormat DetectFormat(string path) => Locate(path).Format;

    private static (DatasetFormat Format, string Folder) Locate(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!Directory.Exists(path))
        {
            throw new DatasetException(path, File.Exists(path) ? "is a file; pass the folder that holds the data set's files." : "folder not found.");
        }
        var candidates = new[] { path }.Concat(KnownSubfolders.Select(s => Path.Combine(path, s))).Where(Directory.Exists);
        foreach (var folder in candidates)
        {
            var found = new List<DatasetFormat>();
            if (IsIdx(folder)) found.Add(DatasetFormat.Idx);
            if (IsCifar10(folder)) found.Add(DatasetFormat.Cifar10);
            if (IsCifar100(folder)) found.Add(DatasetFormat.Cifar100);
            if (ImageFolderDataset.IsImageFolder(folder)) found.Add(DatasetFormat.ImageFolder);
            if (found.Count == 1) return (found[0], folder);
            if (found.Count > 1)
            {
                throw new DatasetException(folder, $"holds files of several layouts ({string.Join(", ", found)}); keep one data set per folder.");
            }
        }
        var present = Directory.EnumerateFileSystemEntries(path).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        var listing = present.Count == 0
            ? "the folder is empty"
            : "found " + string.Join(", ", present.Take(10)) + (present.Count > 10 ? $" and {present.Count - 10} more" : "");
        throw new DatasetException(path, $"no data set recognised: {Expected}; {listing}.");
    }

    private static IdxDataset OpenIdx(string folder, DatasetSplit split, int? limit)
    {
        var prefix = split == DatasetSplit.Train ? "train" : "t10k";
        var images = FindIdx(folder, prefix, "images", 3);
        var labels = FindIdx(folder, prefix, "labels", 1);
        if (images is null || labels is null)
        {
            var missing = string.Join(" and ", new[] { images is null ? $"{prefix}-images-idx3-ubyte[.gz]" : null, labels is null ? $"{prefix}-labels-idx1-ubyte[.gz]" : null }.OfType<string>());
            throw new DatasetException(folder, $"IDX data set found, but the {split.ToString().ToLowerInvariant()} split's {missing} {(images is null && labels is null ? "are" : "is")} missing.");
        }
        return IdxDataset.Load(images, labels, limit);
    }

    /// <summary>The IDX file of one split and kind, preferring the uncompressed one when both exist (it reads faster).</summary>
    private static string? FindIdx(string folder, string prefix, string kind, int rank) =>
        IdxNames(prefix, kind, rank).Select(n => Path.Combine(folder, n)).FirstOrDefault(File.Exists);

    private static IEnumerable<string> IdxNames(string prefix, string kind, int rank)
    {
        foreach (var separator in new[] { "-", "." })
        {
            var name = $"{prefix}-{kind}{separator}idx{rank}-ubyte";
            yield return name;
            yield return name + ".gz";
        }
    }

    private static bool IsIdx(string folder) =>
        new[] { "train", "t10k" }.Any(p => FindIdx(folder, p, "images", 3) is not null || FindIdx(folder, p, "labels", 1) is not null);

    private static bool IsCifar10(string folder) =>
        File.Exists(Path.Combine(folder, "test_batch.bin")) || Enumerable.Range(1, 5).Any(i => File.Exists(Path.Combine(folder, $"data_batch_{i}.bin")));

    private static bool IsCifar100(string folder) =>
        File.Exists(Path.Combine(folder, "train.bin")) || File.Exists(Path.Combine(folder, "test.bin"));

    private static string[] Cifar10Files(string folder, DatasetSplit split)
    {
        if (split == DatasetSplit.Test) return [Require(folder, "test_batch.bin", "CIFAR-10", split)];
        var files = Enumerable.Range(1, 5).Select(i => Path.Combine(folder, $"data_batch_{i}.bin")).ToArray();
        var missing = files.Where(f => !File.Exists(f)).Select(Path.GetFileName).ToList();
        if (missing.Count > 0)
        {
            // A partial training set would silently train on less data; refuse instead.
            throw new DatasetException(folder, $"CIFAR-10 data set found, but the train split's {string.Join(", ", missing)} {(missing.Count == 1 ? "is" : "are")} missing (all of data_batch_1.bin … data_batch_5.bin are needed).");
        }
        return files;
    }

    private static string Require(string folder, string name, string layout, DatasetSplit split)
    {
        var file = Path.Combine(folder, name);
        if (!File.Exists(file))
        {
            throw new DatasetException(folder, $"{layout} data set found, but the {split.ToString().ToLowerInvariant()} split's {name} is missing.");
        }
        return file;
    }
}
