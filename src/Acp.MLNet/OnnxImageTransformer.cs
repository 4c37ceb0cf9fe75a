using Acp.Engine.Data;
using Acp.Onnx;
using Acp.Onnx.Ir;
using Acp.Onnx.Runtime;

namespace Acp.MLNet;

/// <summary>
/// An ONNX image classifier ready to score data with ONNX Runtime: what <see cref="ModelOperationsCatalog.Load"/>
/// returns for a saved model (ML.NET's <c>OnnxTransformer</c>, which is also what a pruned model saved through ML.NET
/// loads back as).
/// </summary>
/// <remarks>
/// The input normalisation is part of the model: given explicitly, or read from the model's metadata
/// (<see cref="ModelMetadataKeys"/>), or [0, 1] scaling when neither says. The ONNX Runtime session is created on first
/// use and released by <see cref="Dispose"/>. <see cref="Transform"/> may be called from several threads at once.
/// </remarks>
public sealed class OnnxImageTransformer : IImageTransformer
{
    private readonly OnnxImageScorer _scorer;
    private readonly byte[] _bytes;
    private readonly AcpContext? _context;

    /// <summary>Takes ownership of <paramref name="model"/> and writes <paramref name="normalization"/> (when given) into its metadata.</summary>
    internal OnnxImageTransformer(OnnxModel model, string source, ChannelNormalization? normalization, AcpContext? context, OrtSessionSettings? session = null)
    {
        var signature = ImageModelSignature.Of(model, source);
        normalization ??= ModelNormalization.Read(model, source);
        if (normalization is not null)
        {
            signature.Check(normalization, "The normalisation", nameof(normalization));
            // Written into the model so that a saved copy reloads with the normalisation it was used with.
            ModelNormalization.Write(model, normalization);
        }
        Model = model;
        Normalization = normalization ?? ChannelNormalization.ScaleOnly(signature.ImageShape.Channels);
        _bytes = model.ToBytes();
        _scorer = new OnnxImageScorer(_bytes, signature, Normalization, session);
        _context = context;
    }

    /// <summary>The model. Changing it does not change what this transformer computes.</summary>
    public OnnxModel Model { get; }

    /// <summary>How pixels become model input.</summary>
    public ChannelNormalization Normalization { get; }

    /// <summary>The images the model takes.</summary>
    public ImageShape ImageShape => _scorer.Signature.ImageShape;

    /// <summary>The number of classes the model scores.</summary>
    public int ClassCount => _scorer.Signature.ClassCount;

    /// <summary>The columns of data the model takes.</summary>
    public ImageSchema InputSchema => ImageSchema.ForImages(ImageShape.Channels, ImageShape.Height, ImageShape.Width, ClassCount);

    /// <summary>Loads a model saved by <see cref="Save"/> (or any ONNX image classifier).</summary>
    /// <param name="path">The .onnx file.</param>
    /// <param name="normalization">How pixels become input; null = the model's metadata, else [0, 1] scaling.</param>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="OnnxModelException">The file is not a valid ONNX model, or its normalisation metadata is malformed.</exception>
    /// <exception cref="ArgumentException">The model is not an image classifier (one input [N, C, H, W], output [N, classes]).</exception>
    public static OnnxImageTransformer Load(string path, ChannelNormalization? normalization = null) => Load(path, normalization, null);

    internal static OnnxImageTransformer Load(string path, ChannelNormalization? normalization, AcpContext? context)
    {
        var model = ModelFile.Load(path, nameof(path));
        return new OnnxImageTransformer(model, Path.GetFileName(path), normalization, context);
    }

    /// <inheritdoc/>
    public ImageSchema GetOutputSchema(ImageSchema inputSchema) => _scorer.Signature.OutputSchema(inputSchema, nameof(inputSchema));

    /// <inheritdoc/>
    /// <exception cref="Microsoft.ML.OnnxRuntime.OnnxRuntimeException">ONNX Runtime cannot be loaded, or it refused the model.</exception>
    public IReadOnlyList<ImagePrediction> Transform(ImageDataView input, CancellationToken cancellationToken = default) =>
        _scorer.Score(input, nameof(input), cancellationToken);

    /// <summary>Scores <paramref name="data"/> and compares the predictions with the true labels.</summary>
    public ClassificationMetrics Evaluate(ImageDataView data, CancellationToken cancellationToken = default) =>
        MulticlassClassificationCatalog.Compute(Transform(data, cancellationToken));

    /// <summary>Median ONNX Runtime latency of one batch of <paramref name="batchSize"/> images, in milliseconds.</summary>
    /// <param name="batchSize">Images per run (for models with a symbolic batch dimension).</param>
    /// <param name="threads">ONNX Runtime's intra-op threads.</param>
    /// <param name="runs">Timed runs, after 5 untimed warm-up runs.</param>
    public double MeasureLatency(int batchSize = 1, int threads = 1, int runs = 30) =>
        LatencyMeter.MedianMilliseconds(_bytes, batchSize, threads, warmup: 5, runs);

    /// <summary>
    /// Writes the model to <paramref name="path"/> atomically (a temporary file renamed into place), with its
    /// normalisation in the metadata so <see cref="Load(string, ChannelNormalization?)"/> restores it.
    /// </summary>
    /// <exception cref="IOException">The file exists and <paramref name="overwrite"/> is false.</exception>
    public void Save(string path, bool overwrite = false)
    {
        ModelFile.Save(_bytes, path, overwrite);
        _context?.Write(AcpLogKind.Info, nameof(Save), $"saved {ImageShape} classifier to {path}");
    }

    /// <summary>Releases the ONNX Runtime session.</summary>
    public void Dispose() => _scorer.Dispose();
}
