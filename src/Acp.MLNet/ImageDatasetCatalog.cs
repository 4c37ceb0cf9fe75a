using Acp.Data;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;

namespace Acp.MLNet;

/// <summary>
/// Acp's data set readers on ML.NET's <c>mlContext.Data</c>: IDX (MNIST, Fashion-MNIST), CIFAR-10/100 binary batches
/// and folders of PNG/JPEG images per class, as an <see cref="IDataView"/> ready for <c>PruneChannels</c>.
/// </summary>
public static class ImageDatasetCatalog
{
    /// <summary>
    /// A split of the data set in <paramref name="folder"/> with a feature column (Vector&lt;Single, C, H, W&gt;: pixels
    /// scaled to [0, 1], then normalised) and a label column (a key whose values are the class indices 0..K−1).
    /// </summary>
    /// <param name="catalog">The data catalog (<c>mlContext.Data</c>).</param>
    /// <param name="folder">IDX files, CIFAR binary batches, or train/ and test/ folders with one folder of images per class.</param>
    /// <param name="split">Which split to read.</param>
    /// <param name="normalization">Per-channel mean and standard deviation on the [0, 1] scale; null = scaling only.</param>
    /// <param name="limit">Read only the first this many images.</param>
    /// <param name="featureColumnName">The feature column's name.</param>
    /// <param name="labelColumnName">The label column's name.</param>
    /// <remarks>Images are read when a cursor reaches them, not loaded up front.</remarks>
    /// <exception cref="DatasetException">The folder holds no data set Acp reads, or its files are malformed.</exception>
    /// <exception cref="ArgumentException">The normalisation has the wrong number of channels.</exception>
    public static IDataView LoadImageDataset(this DataOperationsCatalog catalog, string folder, DatasetSplit split,
        ChannelNormalization? normalization = null, int? limit = null, string featureColumnName = "Features", string labelColumnName = "Label")
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentException.ThrowIfNullOrEmpty(folder);
        var dataset = DatasetFolder.Open(folder, split, limit);
        var shape = dataset.ImageShape;
        normalization ??= ChannelNormalization.ScaleOnly(shape.Channels);
        if (normalization.Channels != shape.Channels)
        {
            throw new ArgumentException($"The normalisation has {normalization.Channels} channel(s) but the images are {shape}.", nameof(normalization));
        }

        var schema = SchemaDefinition.Create(typeof(ImageRow));
        schema[nameof(ImageRow.Features)].ColumnName = featureColumnName;
        schema[nameof(ImageRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, shape.Channels, shape.Height, shape.Width);
        schema[nameof(ImageRow.Label)].ColumnName = ClassColumn;
        var rows = catalog.LoadFromEnumerable(Rows(dataset, normalization), schema);

        // Keys over every class, in class order, whatever classes the rows hold: key c + 1 is class c, its value c.
        var ml = new MLContext();
        var classes = ml.Data.LoadFromEnumerable(Enumerable.Range(0, dataset.ClassCount).Select(c => new ClassRow { Class = (uint)c }));
        var keyed = ml.Transforms.Conversion.MapValueToKey(labelColumnName, ClassColumn, keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue, keyData: classes)
            .Append(ml.Transforms.DropColumns(ClassColumn));
        return keyed.Fit(rows).Transform(rows);
    }

    private static IEnumerable<ImageRow> Rows(IImageDataset dataset, ChannelNormalization normalization)
    {
        var shape = dataset.ImageShape;
        var pixels = new byte[shape.PixelCount];
        for (var i = 0; i < dataset.Count; i++)
        {
            dataset.ReadImage(i, pixels);
            var features = new float[pixels.Length];
            // The engine's own arithmetic, so these features equal what Acp's loaders feed the network.
            for (var c = 0; c < shape.Channels; c++)
            {
                for (var p = c * shape.PlaneSize; p < (c + 1) * shape.PlaneSize; p++) features[p] = normalization.Apply(c, pixels[p]);
            }
            yield return new ImageRow { Features = features, Label = (uint)dataset.Label(i) };
        }
    }

    private const string ClassColumn = "Acp.Class";

    private sealed class ClassRow
    {
        public uint Class { get; set; }
    }

    private sealed class ImageRow
    {
        public float[] Features { get; set; } = [];

        public uint Label { get; set; }
    }
}
