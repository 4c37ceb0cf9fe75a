namespace Acp.MLNet;

/// <summary>
/// A fitted model that scores images (ML.NET's <c>ITransformer</c>, for image classification). Transformers hold an
/// ONNX Runtime session, so they are <see cref="IDisposable"/>.
/// </summary>
public interface IImageTransformer : IDisposable
{
    /// <summary>The columns <see cref="Transform"/> produces from data of <paramref name="inputSchema"/>.</summary>
    /// <exception cref="ArgumentException">The input's image column does not fit the model.</exception>
    ImageSchema GetOutputSchema(ImageSchema inputSchema);

    /// <summary>Scores every image of <paramref name="input"/>, in order.</summary>
    /// <exception cref="ArgumentException">The images do not fit the model (channels, size, classes, normalisation).</exception>
    IReadOnlyList<ImagePrediction> Transform(ImageDataView input, CancellationToken cancellationToken = default);

    /// <summary>Writes the model as a standalone ONNX file that any ONNX runtime loads.</summary>
    /// <exception cref="IOException">The file exists and <paramref name="overwrite"/> is false.</exception>
    void Save(string path, bool overwrite = false);
}

/// <summary>
/// Something that learns an <see cref="IImageTransformer"/> from image data (ML.NET's <c>IEstimator&lt;TTransformer&gt;</c>).
/// </summary>
/// <typeparam name="TTransformer">What <see cref="Fit"/> returns.</typeparam>
public interface IImageEstimator<out TTransformer>
    where TTransformer : IImageTransformer
{
    /// <summary>Learns from <paramref name="input"/> and returns the transformer.</summary>
    TTransformer Fit(ImageDataView input, CancellationToken cancellationToken = default);

    /// <summary>The columns the fitted transformer will produce, checked before any data flows.</summary>
    /// <exception cref="ArgumentException">The input's columns do not fit.</exception>
    ImageSchema GetOutputSchema(ImageSchema inputSchema);
}
