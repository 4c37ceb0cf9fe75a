using Acp.Engine.Data;
using Acp.Onnx.Ir;
using Acp.Onnx.Runtime;

namespace Acp.MLNet;

/// <summary>
/// Scores image data with ONNX Runtime, the runtime a pruned model is deployed on. The session is created on first use
/// (so pruning works where only scoring would need the native library) and released by <see cref="Dispose"/>.
/// </summary>
internal sealed class OnnxImageScorer : IDisposable
{
    private const int DynamicBatch = 256;

    private readonly Lazy<InferenceSession> _session;
    private int _disposed;

    public OnnxImageScorer(byte[] model, ImageModelSignature signature, ChannelNormalization normalization, SessionConfig? config = null)
    {
        Signature = signature;
        Normalization = normalization;
        _session = new Lazy<InferenceSession>(() => InferenceSession.FromBytes(model, config), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public ImageModelSignature Signature { get; }

    public ChannelNormalization Normalization { get; }

    /// <exception cref="ArgumentException">The data do not fit the model.</exception>
    /// <exception cref="OrtException">ONNX Runtime could not be loaded or refused the model.</exception>
    public IReadOnlyList<ImagePrediction> Score(ImageDataView data, string parameter, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(data, parameter);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        Signature.Check(data, parameter);
        if (data.Normalization is { } own && !ModelNormalization.Same(own, Normalization))
        {
            throw new ArgumentException(
                $"The data are normalised with {own} but {Signature.Source} expects {Normalization}; load the data without a normalisation to use the model's.", parameter);
        }
        var predictions = new List<ImagePrediction>(data.Count);
        if (data.Count == 0) return predictions;

        // A model exported with a fixed batch size gets exactly that many images per run, the last batch padded.
        var fixedBatch = Signature.FixedBatch is > 0 ? (int)Signature.FixedBatch.Value : (int?)null;
        var batchSize = fixedBatch ?? Math.Min(DynamicBatch, data.Count);
        var loader = new BatchLoader(data.Dataset, new BatchLoaderOptions { BatchSize = batchSize, Normalization = Normalization });
        var session = _session.Value;
        var shape = Signature.ImageShape;
        var classes = Signature.ClassCount;
        var outputs = new[] { Signature.OutputName };
        foreach (var batch in loader.GetBatches(0))
        {
            cancellation.ThrowIfCancellationRequested();
            var rows = fixedBatch ?? batch.Count;
            var input = OrtTensor.FromFloat(batch.Images.AsMemory(0, rows * shape.PixelCount), rows, shape.Channels, shape.Height, shape.Width);
            var scores = session.Run(new Dictionary<string, OrtTensor> { [Signature.InputName] = input }, outputs)[0].Tensor.FloatData.Span;
            if (scores.Length != rows * classes)
            {
                throw new InvalidOperationException($"{Signature.Source} returned {scores.Length} scores for {rows} images; expected {classes} per image.");
            }
            for (var i = 0; i < batch.Count; i++)
            {
                var row = scores.Slice(i * classes, classes);
                predictions.Add(new ImagePrediction(batch.Labels[i], ImagePrediction.ArgMax(row), row.ToArray()));
            }
        }
        return predictions;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        if (_session.IsValueCreated) _session.Value.Dispose();
    }
}
