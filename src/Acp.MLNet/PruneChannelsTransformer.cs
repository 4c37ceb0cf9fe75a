using Acp.Engine.Data;
using Acp.Onnx.Ir;
using Acp.Onnx.Runtime;
using Acp.Pruning.Pipeline;

namespace Acp.MLNet;

/// <summary>
/// The outcome of <see cref="PruneChannelsEstimator.Fit"/> (ML.NET's <c>ITransformer</c>): the pruned, fine-tuned model,
/// ready to score images with ONNX Runtime, to evaluate against the original, and to save as a slim ONNX file.
/// </summary>
/// <remarks>
/// Holds an ONNX Runtime session (created on first use), so dispose it. <see cref="Transform"/> may be called from
/// several threads at once; <see cref="Evaluate"/>, <see cref="EvaluateOriginal"/> and <see cref="MeasureLatency"/>
/// also record their results in <see cref="Summary"/>.
/// </remarks>
public sealed class PruneChannelsTransformer : IImageTransformer
{
    private readonly OnnxImageTransformer _pruned;
    private readonly string _source;
    private readonly AcpContext _context;
    private readonly object _gate = new();
    private PruningSummary _summary;

    internal PruneChannelsTransformer(OnnxModel original, string source, PruningResult result, OnnxImageTransformer pruned, PruningOptions options, AcpContext context)
    {
        OriginalModel = original;
        Result = result;
        _pruned = pruned;
        _source = source;
        _context = context;
        _summary = new PruningSummary
        {
            Strategy = result.Strategy,
            TargetFlops = options.TargetMacs,
            TargetParams = options.TargetParams,
            OriginalParams = result.Original.Params,
            PrunedParams = result.Pruned.Params,
            OriginalMacs = result.Original.Macs,
            PrunedMacs = result.Pruned.Macs,
            OriginalValidationAccuracy = result.Original.ValidationAccuracy,
            PrunedBeforeFineTuningValidationAccuracy = result.PrunedBeforeFineTuning.ValidationAccuracy,
            PrunedValidationAccuracy = result.Pruned.ValidationAccuracy,
            Duration = result.TotalTime,
            Widths = result.Widths,
        };
    }

    /// <summary>The pruned model, with its normalisation in the metadata (<see cref="ModelMetadataKeys"/>).</summary>
    public OnnxModel Model => _pruned.Model;

    /// <summary>The model that was pruned.</summary>
    public OnnxModel OriginalModel { get; }

    /// <summary>Everything the pruning run reports: widths, kept channels, search history, losses.</summary>
    public PruningResult Result { get; }

    /// <summary>How pixels become model input (the normalisation the model was fine-tuned with).</summary>
    public ChannelNormalization Normalization => _pruned.Normalization;

    /// <summary>Before and after, including whatever test accuracy and latency have been measured so far.</summary>
    public PruningSummary Summary
    {
        get
        {
            lock (_gate) return _summary;
        }
    }

    /// <summary>The columns of data the model takes.</summary>
    public ImageSchema InputSchema => _pruned.InputSchema;

    /// <inheritdoc/>
    public ImageSchema GetOutputSchema(ImageSchema inputSchema) => _pruned.GetOutputSchema(inputSchema);

    /// <summary>Scores every image of <paramref name="input"/> with the pruned model in ONNX Runtime, in order.</summary>
    /// <exception cref="ArgumentException">The images do not fit the model (channels, size, classes, normalisation).</exception>
    /// <exception cref="Microsoft.ML.OnnxRuntime.OnnxRuntimeException">ONNX Runtime cannot be loaded.</exception>
    public IReadOnlyList<ImagePrediction> Transform(ImageDataView input, CancellationToken cancellationToken = default) =>
        _pruned.Transform(input, cancellationToken);

    /// <summary>Metrics of the pruned model on <paramref name="data"/> (e.g. the test split); the accuracy goes into <see cref="Summary"/>.</summary>
    public ClassificationMetrics Evaluate(ImageDataView data, CancellationToken cancellationToken = default)
    {
        var metrics = _pruned.Evaluate(data, cancellationToken);
        Update(s => s with { TestAccuracy = metrics.MicroAccuracy });
        _context.Write(AcpLogKind.Info, nameof(Evaluate), $"pruned {_source}: {metrics}");
        return metrics;
    }

    /// <summary>Metrics of the original model on <paramref name="data"/>, with the same normalisation; the accuracy goes into <see cref="Summary"/>.</summary>
    public ClassificationMetrics EvaluateOriginal(ImageDataView data, CancellationToken cancellationToken = default)
    {
        using var original = new OnnxImageTransformer(OriginalModel.Clone(), _source, Normalization, null);
        var metrics = original.Evaluate(data, cancellationToken);
        Update(s => s with { OriginalTestAccuracy = metrics.MicroAccuracy });
        _context.Write(AcpLogKind.Info, nameof(EvaluateOriginal), $"{_source}: {metrics}");
        return metrics;
    }

    /// <summary>
    /// Median ONNX Runtime latency of the original and the pruned model on the same random input, one after the other
    /// (a few seconds for small models); the result goes into <see cref="Summary"/>.
    /// </summary>
    /// <param name="batchSize">Images per run.</param>
    /// <param name="threads">ONNX Runtime intra-op threads (1 measures the work saved, not the parallelism available).</param>
    /// <param name="runs">Timed runs per model, after 5 warm-up runs.</param>
    public LatencyComparison MeasureLatency(int batchSize = 1, int threads = 1, int runs = 30)
    {
        var original = LatencyMeter.MedianMilliseconds(OriginalModel.ToBytes(), batchSize, threads, warmup: 5, runs);
        var pruned = _pruned.MeasureLatency(batchSize, threads, runs);
        Update(s => s with { OriginalLatencyMilliseconds = original, PrunedLatencyMilliseconds = pruned });
        var comparison = new LatencyComparison(original, pruned, batchSize, threads);
        _context.Write(AcpLogKind.Info, nameof(MeasureLatency), $"ORT latency {original:F3} ms → {pruned:F3} ms ({comparison.Speedup:F2}×), batch {batchSize}, {threads} thread(s)");
        return comparison;
    }

    /// <summary>
    /// Writes the pruned model as a standalone ONNX file, atomically; it loads in any ONNX runtime and back here through
    /// <see cref="ModelOperationsCatalog.Load"/> (as an <see cref="OnnxImageTransformer"/>: the run's report is not in the file).
    /// </summary>
    /// <exception cref="IOException">The file exists and <paramref name="overwrite"/> is false.</exception>
    public void Save(string path, bool overwrite = false) => _pruned.Save(path, overwrite);

    /// <summary>Releases the ONNX Runtime session.</summary>
    public void Dispose() => _pruned.Dispose();

    private void Update(Func<PruningSummary, PruningSummary> change)
    {
        lock (_gate) _summary = change(_summary);
    }
}
