using Acp.Engine.Data;
using Acp.Onnx.Ir;
using Acp.Onnx.Runtime;
using Microsoft.ML.OnnxRuntime;

namespace Acp.MLNet;

/// <summary>
/// Scores image data with ONNX Runtime, the runtime a pruned model is deployed on. The session is created on first use
/// (so pruning works where only scoring would need the native library) and released by <see cref="Dispose"/>.
/// </summary>
internal sealed class OnnxImageScorer : IDisposable
{
    private const int DynamicBatch = 256;

    private readonly byte[] _model;
    private readonly OrtSessionSettings? _config;
    private readonly object _gate = new();
    private InferenceSession? _session;
    private bool _disposed;

    public OnnxImageScorer(byte[] model, ImageModelSignature signature, ChannelNormalization normalization, OrtSessionSettings? config = null)
    {
        Signature = signature;
        Normalization = normalization;
        _model = model;
        _config = config;
    }

    public ImageModelSignature Signature { get; }

    public ChannelNormalization Normalization { get; }

    /// <exception cref="ArgumentException">The data do not fit the model.</exception>
    /// <exception cref="OnnxRuntimeException">ONNX Runtime could not be loaded or refused the model.</exception>
    public IReadOnlyList<ImagePrediction> Score(ImageDataView data, string parameter, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(data, parameter);
        Signature.Check(data, parameter);
        if (data.Normalization is { } own && !ModelNormalization.Same(own, Normalization))
        {
            throw new ArgumentException(
                $"The data are normalised with {own} but {Signature.Source} expects {Normalization}; load the data without a normalisation to use the model's.", parameter);
        }
        var session = Session();
        var predictions = new List<ImagePrediction>(data.Count);
        if (data.Count == 0) return predictions;

        // A model exported with a fixed batch size gets exactly that many images per run, the last batch padded.
        var fixedBatch = Signature.FixedBatch is > 0 ? (int)Signature.FixedBatch.Value : (int?)null;
        var batchSize = fixedBatch ?? Math.Min(DynamicBatch, data.Count);
        var loader = new BatchLoader(data.Dataset, new BatchLoaderOptions { BatchSize = batchSize, Normalization = Normalization });
        var shape = Signature.ImageShape;
        var classes = Signature.ClassCount;
        var outputs = new[] { Signature.OutputName };
        foreach (var batch in loader.GetBatches(0))
        {
            cancellation.ThrowIfCancellationRequested();
            var rows = fixedBatch ?? batch.Count;
            using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, batch.Images.AsMemory(0, rows * shape.PixelCount),
                [rows, shape.Channels, shape.Height, shape.Width]);
            using var runOptions = new RunOptions();
            using var results = session.Run(runOptions, [Signature.InputName], [input], outputs);
            var scores = results[0].GetTensorDataAsSpan<float>();
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
        lock (_gate)
        {
            _disposed = true;
            _session?.Dispose();
        }
    }

    /// <summary>
    /// The session, created on first use. A failure (e.g. no ONNX Runtime library) is not remembered, so a later call
    /// can succeed; runs still in progress when the scorer is disposed finish first (the session counts its users).
    /// </summary>
    private InferenceSession Session()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _session ??= (_config ?? OrtSessionSettings.Default).CreateSession(_model);
        }
    }
}
