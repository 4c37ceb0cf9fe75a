using Acp.Engine.Data;

namespace Acp.MLNet;

/// <summary>A training and a test view that share no image (ML.NET's <c>DataOperationsCatalog.TrainTestData</c>).</summary>
/// <param name="TrainSet">The training part.</param>
/// <param name="TestSet">The test part.</param>
public sealed record TrainTestData(ImageDataView TrainSet, ImageDataView TestSet);

/// <summary>
/// Loading and splitting image data (ML.NET's <c>DataOperationsCatalog</c>, <c>mlContext.Data</c>). Reached through
/// <see cref="AcpContext.Data"/>; random operations take the context's seed unless given one.
/// </summary>
public sealed class DataOperationsCatalog
{
    private readonly AcpContext _context;

    internal DataOperationsCatalog(AcpContext context) => _context = context;

    /// <summary>
    /// Loads one split of the data set in <paramref name="folder"/>: MNIST/Fashion-MNIST IDX files (optionally
    /// gzip-compressed), CIFAR-10 or CIFAR-100 binary batches, as their publishers distribute them, or <c>train/</c>
    /// and <c>test/</c> folders holding one folder of PNG/JPEG images per class.
    /// </summary>
    /// <param name="folder">The folder holding the files (or the folder the archive extracted into).</param>
    /// <param name="split">The training or the test part.</param>
    /// <param name="limit">Read only the first images; null = all.</param>
    /// <param name="normalization">How pixels become model input; null = the model's (ONNX metadata), else [0, 1] scaling.</param>
    /// <exception cref="DatasetException">The folder is missing, holds no recognised data set, or a file is corrupt.</exception>
    public ImageDataView LoadImages(string folder, DatasetSplit split = DatasetSplit.Train, int? limit = null, ChannelNormalization? normalization = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        var view = new ImageDataView(DatasetFolder.Open(folder, split, limit), normalization);
        _context.Write(AcpLogKind.Info, nameof(LoadImages), $"loaded {view} from {folder} ({split})");
        return view;
    }

    /// <summary>Loads a pair of IDX files (the MNIST format): an images file and its labels file, each optionally gzip-compressed.</summary>
    /// <param name="imagesPath">The <c>*-images-idx3-ubyte[.gz]</c> file.</param>
    /// <param name="labelsPath">The matching <c>*-labels-idx1-ubyte[.gz]</c> file.</param>
    /// <param name="limit">Read only the first images; null = all.</param>
    /// <param name="normalization">How pixels become model input; null = the model's.</param>
    /// <exception cref="DatasetException">A file is missing or corrupt, or the two disagree.</exception>
    public ImageDataView LoadFromIdx(string imagesPath, string labelsPath, int? limit = null, ChannelNormalization? normalization = null)
    {
        var view = new ImageDataView(IdxDataset.Load(imagesPath, labelsPath, limit), normalization);
        _context.Write(AcpLogKind.Info, nameof(LoadFromIdx), $"loaded {view} from {imagesPath}");
        return view;
    }

    /// <summary>Wraps images already in memory or from a custom reader (ML.NET's <c>LoadFromEnumerable</c>).</summary>
    public ImageDataView LoadFromDataset(IImageDataset dataset, ChannelNormalization? normalization = null) => new(dataset, normalization);

    /// <summary>
    /// Splits <paramref name="data"/> into a training and a test part, holding out the same fraction of every class
    /// (ML.NET's <c>TrainTestSplit</c>, which stratifies only by a sampling-key column).
    /// </summary>
    /// <param name="data">The images.</param>
    /// <param name="testFraction">The fraction held out for testing, in [0, 1].</param>
    /// <param name="seed">Which images; null = the context's seed.</param>
    public TrainTestData TrainTestSplit(ImageDataView data, double testFraction = 0.1, int? seed = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        var (train, test) = data.Dataset.TrainValidationSplit(testFraction, seed ?? _context.SeedOrDefault);
        return new TrainTestData(data.WithDataset(train), data.WithDataset(test));
    }

    /// <summary>The first <paramref name="count"/> images (ML.NET's <c>TakeRows</c>).</summary>
    public ImageDataView TakeRows(ImageDataView data, int count)
    {
        ArgumentNullException.ThrowIfNull(data);
        return data.WithDataset(data.Dataset.Take(count));
    }

    /// <summary>The images in an order fixed by <paramref name="seed"/> (ML.NET's <c>ShuffleRows</c>); null = the context's seed.</summary>
    public ImageDataView ShuffleRows(ImageDataView data, int? seed = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        return data.WithDataset(data.Dataset.Shuffle(seed ?? _context.SeedOrDefault));
    }
}
