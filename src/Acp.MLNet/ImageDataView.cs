using Acp.Engine.Data;

namespace Acp.MLNet;

/// <summary>
/// Labelled images to train on or score (the image-classification case of ML.NET's <c>IDataView</c>): a data set of
/// byte images and, optionally, the per-channel normalisation that turns their pixels into model input.
/// </summary>
/// <remarks>
/// <para>
/// Unlike an <c>IDataView</c>, which is lazy and column-typed, this is a random-access set of images with an
/// <see cref="DefaultColumnNames.Image"/> column (float vector C×H×W after normalisation) and a
/// <see cref="DefaultColumnNames.Label"/> column (key); <see cref="Schema"/> describes it in those terms.
/// </para>
/// <para>
/// The normalisation is optional because the model usually knows it (ONNX metadata <c>acp.mean</c>/<c>acp.std</c>):
/// when it is null, the model's is used. When it is set, it must agree with what the model or options say, so a
/// mismatch is reported instead of silently producing wrong inputs. Immutable; safe to read from several threads.
/// </para>
/// </remarks>
public sealed class ImageDataView
{
    /// <summary>A view over <paramref name="dataset"/>.</summary>
    /// <param name="dataset">The images and labels.</param>
    /// <param name="normalization">How pixels become model input; null = whatever the model says.</param>
    /// <exception cref="ArgumentException">The normalisation has a different number of channels than the images.</exception>
    public ImageDataView(IImageDataset dataset, ChannelNormalization? normalization = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        if (normalization is not null && normalization.Channels != dataset.ImageShape.Channels)
        {
            throw new ArgumentException(
                $"The normalisation has {normalization.Channels} channel(s) but the images are {dataset.ImageShape}.", nameof(normalization));
        }
        Dataset = dataset;
        Normalization = normalization;
    }

    /// <summary>The underlying images and labels.</summary>
    public IImageDataset Dataset { get; }

    /// <summary>How pixels become model input, or null to use the model's.</summary>
    public ChannelNormalization? Normalization { get; }

    /// <summary>Number of images (rows).</summary>
    public int Count => Dataset.Count;

    /// <summary>The shape of every image.</summary>
    public ImageShape ImageShape => Dataset.ImageShape;

    /// <summary>Number of classes.</summary>
    public int ClassCount => Dataset.ClassCount;

    /// <summary>The columns: the image (float vector C×H×W) and the label (key over the classes).</summary>
    public ImageSchema Schema => ImageSchema.ForImages(ImageShape.Channels, ImageShape.Height, ImageShape.Width, ClassCount);

    /// <summary>The same images with another normalisation.</summary>
    public ImageDataView WithNormalization(ChannelNormalization? normalization) => new(Dataset, normalization);

    /// <summary>The same normalisation over other images (a subset, a shuffle).</summary>
    internal ImageDataView WithDataset(IImageDataset dataset) => new(dataset, Normalization);

    /// <inheritdoc/>
    public override string ToString() =>
        $"{Count} images of {ImageShape}, {ClassCount} classes" + (Normalization is null ? "" : $", normalised with {Normalization}");
}
