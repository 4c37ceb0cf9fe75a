using Acp.Data.Images;

namespace Acp.Data;

/// <summary>
/// A data set of PNG and JPEG files in one folder per class, the layout of torchvision's <c>ImageFolder</c> and
/// Keras' <c>image_dataset_from_directory</c>: <c>ROOT/train/&lt;class&gt;/*.png|*.jpg|*.jpeg</c> and
/// <c>ROOT/test/&lt;class&gt;/…</c> (or <c>ROOT/val/&lt;class&gt;/…</c>).
/// </summary>
/// <remarks>
/// <para>
/// The classes are the subfolder names of both splits together, sorted ordinally, and a label is an index into that
/// list, so both splits agree on labels even when a class is missing from one of them. Within a class the files
/// (also in nested folders) are sorted ordinally by path, so the order, and with it every seeded shuffle, is the same
/// on every machine. Hidden files and folders (names starting with a dot) and files with other extensions are
/// skipped. Files are recognised as PNG or JPEG by their first bytes, not their extension. Pixels are those PIL
/// gives (so a model trained with torchvision's PIL loader sees the same input); like PIL's <c>Image.open</c> and
/// torchvision's <c>ImageFolder</c>, EXIF orientation is not applied.
/// </para>
/// <para>
/// The file list is built once when the data set is opened; images are decoded on every
/// <see cref="ReadImage"/>, so memory does not grow with the data set (<see cref="BatchLoader"/> decodes a few batches
/// ahead, in parallel, into a bounded number of buffers). Instances are immutable and
/// <see cref="ReadImage"/> may be called from several threads at once. JPEG decoding uses libturbojpeg, loaded on the
/// first JPEG read: a data set of PNGs works without it.
/// </para>
/// </remarks>
public sealed class ImageFolderDataset : IImageDataset
{
    /// <summary>File extensions read (compared ignoring case).</summary>
    public static readonly IReadOnlyList<string> ImageExtensions = [".png", ".jpg", ".jpeg"];

    /// <summary>Folder names of the test split, in order of preference.</summary>
    public static readonly IReadOnlyList<string> TestFolderNames = ["test", "val"];

    /// <summary>Folder name of the training split.</summary>
    public const string TrainFolderName = "train";

    private readonly string[] _files;
    private readonly int[] _labels;
    private readonly bool _resize;
    private readonly Func<TurboJpegLibrary> _jpeg;

    private ImageFolderDataset(string root, string splitFolder, string[] classes, string[] files, int[] labels, int fileCount,
        ImageShape shape, bool resize, Func<TurboJpegLibrary> jpeg)
    {
        Root = root;
        SplitFolder = splitFolder;
        Classes = classes;
        _files = files;
        _labels = labels;
        FileCount = fileCount;
        ImageShape = shape;
        _resize = resize;
        _jpeg = jpeg;
    }

    /// <summary>The data set's folder (the one holding <c>train</c> and <c>test</c>).</summary>
    public string Root { get; }

    /// <summary>The split's folder, e.g. <c>ROOT/val</c>.</summary>
    public string SplitFolder { get; }

    /// <summary>The class names; label i is <c>Classes[i]</c>.</summary>
    public IReadOnlyList<string> Classes { get; }

    /// <summary>The image files, in data set order.</summary>
    public IReadOnlyList<string> Files => _files;

    /// <summary>How many images the split holds; more than <see cref="Count"/> when a limit was given.</summary>
    public int FileCount { get; }

    /// <inheritdoc/>
    public int Count => _files.Length;

    /// <inheritdoc/>
    public ImageShape ImageShape { get; }

    /// <inheritdoc/>
    public int ClassCount => Classes.Count;

    /// <inheritdoc/>
    public bool DecodesOnRead => true;

    /// <summary>Lists the images of the <paramref name="split"/> part of the data set in <paramref name="root"/>.</summary>
    /// <param name="root">The folder holding <c>train</c> and <c>test</c> (or <c>val</c>).</param>
    /// <param name="split">Which part; the test part is <c>test</c>, or <c>val</c> when there is no <c>test</c>.</param>
    /// <param name="options">Image size and channels; by default those of the split's first image.</param>
    /// <param name="limit">Keep only the first <paramref name="limit"/> images (in data set order, so class by class).</param>
    /// <exception cref="DatasetException">
    /// The folder or split is missing, holds no class folders or no images, or the first image (read when
    /// <paramref name="options"/> leaves the size or channels open) is unreadable.
    /// </exception>
    /// <exception cref="ArgumentException">The options are inconsistent or the limit is negative.</exception>
    public static ImageFolderDataset Open(string root, DatasetSplit split, ImageFolderOptions? options = null, int? limit = null) =>
        Open(root, split, options, limit, static () => TurboJpegLibrary.Default);

    /// <summary><see cref="Open(string, DatasetSplit, ImageFolderOptions?, int?)"/> with the JPEG library to use (tests
    /// pass one that failed to load).</summary>
    internal static ImageFolderDataset Open(string root, DatasetSplit split, ImageFolderOptions? options, int? limit, Func<TurboJpegLibrary> jpeg)
    {
        ArgumentNullException.ThrowIfNull(root);
        if (limit < 0) throw new ArgumentOutOfRangeException(nameof(limit), limit, "The limit cannot be negative.");
        options ??= new ImageFolderOptions();
        options.Validate();
        if (!Directory.Exists(root))
        {
            throw new DatasetException(root, File.Exists(root) ? "is a file; pass the folder that holds the train and test folders." : "folder not found.");
        }

        var trainFolder = Path.Combine(root, TrainFolderName);
        var testFolder = TestFolderOf(root);
        var splitFolder = split == DatasetSplit.Train ? (Directory.Exists(trainFolder) ? trainFolder : null) : testFolder;
        if (splitFolder is null)
        {
            throw new DatasetException(root, split == DatasetSplit.Train
                ? $"image folder data set, but it has no {TrainFolderName} folder."
                : $"image folder data set, but it has neither a {string.Join(" nor a ", TestFolderNames)} folder.");
        }

        var classes = new[] { trainFolder, testFolder }
            .Where(f => f is not null && Directory.Exists(f))
            .SelectMany(f => ClassFolders(f!))
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .ToArray();
        if (classes.Length == 0)
        {
            var loose = ListImages(splitFolder, recursive: false).Any();
            throw new DatasetException(splitFolder, "holds no class folders; expected one subfolder per class holding that class's images" +
                (loose ? " (the images here need to move into a subfolder named after their class)." : "."));
        }

        var files = new List<string>();
        var labels = new List<int>();
        for (var label = 0; label < classes.Length; label++)
        {
            var classFolder = Path.Combine(splitFolder, classes[label]);
            if (!Directory.Exists(classFolder)) continue;
            foreach (var file in ListImages(classFolder, recursive: true).Order(StringComparer.Ordinal))
            {
                files.Add(file);
                labels.Add(label);
            }
        }
        if (files.Count == 0)
        {
            throw new DatasetException(splitFolder, $"holds no images ({string.Join(", ", ImageExtensions)}) in its class folders ({string.Join(", ", classes)}).");
        }

        var kept = Math.Min(files.Count, limit ?? int.MaxValue);
        var shape = ResolveShape(options, files[0], jpeg);
        return new ImageFolderDataset(root, splitFolder, classes, files.Take(kept).ToArray(), labels.Take(kept).ToArray(), files.Count,
            shape, resize: options.Height is not null, jpeg);
    }

    /// <summary>The test split's folder of <paramref name="root"/>: <c>test</c>, else <c>val</c>, else null.</summary>
    internal static string? TestFolderOf(string root) =>
        TestFolderNames.Select(n => Path.Combine(root, n)).FirstOrDefault(Directory.Exists);

    /// <summary>
    /// Whether <paramref name="folder"/> holds a split folder with a class folder holding an image; the search stops
    /// at the first class folder that does.
    /// </summary>
    internal static bool IsImageFolder(string folder) =>
        TestFolderNames.Prepend(TrainFolderName)
            .Select(n => Path.Combine(folder, n))
            .Where(Directory.Exists)
            .Any(split => ClassFolders(split).Any(c => ListImages(Path.Combine(split, c), recursive: true).Any()));

    /// <inheritdoc/>
    public void ReadImage(int index, Span<byte> destination)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), index, $"The data set has {Count} images.");
        var shape = ImageShape;
        if (destination.Length < shape.PixelCount)
        {
            throw new ArgumentException($"The destination holds {destination.Length} bytes; an image of {shape} needs {shape.PixelCount}.", nameof(destination));
        }
        var path = _files[index];
        var image = ImageDecoder.Decode(path, _jpeg);
        if (!_resize)
        {
            if (image.Width != shape.Width || image.Height != shape.Height)
            {
                throw new DatasetException(path, $"is {image.Height}×{image.Width} pixels (height×width) but the data set's images are " +
                    $"{shape.Height}×{shape.Width}, the size of its first image {_files[0]}; give a target size (ImageFolderOptions Height and Width) to resize them.");
            }
            PixelLayout.ToPlanes(image, shape.Channels, destination);
            return;
        }
        var planes = new byte[shape.Channels * image.Width * image.Height];
        PixelLayout.ToPlanes(image, shape.Channels, planes);
        ImageResizer.ResizeAndCrop(planes, shape.Channels, image.Height, image.Width, destination, shape.Height, shape.Width);
    }

    /// <inheritdoc/>
    public int Label(int index)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), index, $"The data set has {Count} images.");
        return _labels[index];
    }

    /// <inheritdoc/>
    public override string ToString() => $"image folder {SplitFolder}: {Count} images of {ImageShape}, {ClassCount} classes";

    private static ImageShape ResolveShape(ImageFolderOptions options, string firstFile, Func<TurboJpegLibrary> jpeg)
    {
        if (options is { Height: { } height, Width: { } width, Channels: { } channels }) return new ImageShape(channels, height, width);
        var first = ImageDecoder.Decode(firstFile, jpeg);
        return new ImageShape(options.Channels ?? first.Channels, options.Height ?? first.Height, options.Width ?? first.Width);
    }

    private static IEnumerable<string> ClassFolders(string splitFolder) =>
        Guard(splitFolder, () => Directory.EnumerateDirectories(splitFolder).Select(Path.GetFileName).OfType<string>().Where(n => !n.StartsWith('.')));

    private static IEnumerable<string> ListImages(string folder, bool recursive)
    {
        // The default enumeration options skip hidden entries (on Unix, names starting with a dot) and do not descend
        // into hidden folders.
        var enumeration = new EnumerationOptions { RecurseSubdirectories = recursive, IgnoreInaccessible = false };
        return Guard(folder, () => Directory.EnumerateFiles(folder, "*", enumeration)
            .Where(f => ImageExtensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase)));
    }

    /// <summary>Runs a folder listing, turning I/O failures (also those during enumeration) into a <see cref="DatasetException"/>.</summary>
    private static IEnumerable<string> Guard(string folder, Func<IEnumerable<string>> list)
    {
        List<string> items;
        try
        {
            items = list().ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DatasetException(folder, $"cannot be listed: {e.Message}", e);
        }
        return items;
    }
}
