using Acp.Onnx.Ir;
using Acp.Pruning.Pipeline;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Acp.MLNet;

/// <summary>
/// The outcome of <see cref="PruneChannelsEstimator.Fit"/>: scores rows with the pruned model through ML.NET's own
/// OnnxTransformer (adding the score and predicted-label columns), and exposes what the run produced.
/// </summary>
/// <remarks>
/// Saved with <c>mlContext.Model.Save</c>, it writes ML.NET's own transformers (ONNX scoring, key mapping, column
/// dropping), so the zip loads in a program that references only ML.NET and ONNX Runtime. Holds an ONNX Runtime
/// session: dispose it.
/// </remarks>
public sealed class PruneChannelsTransformer : ITransformer, IDisposable
{
    private readonly ITransformer _scorer;

    internal PruneChannelsTransformer(ITransformer scorer, PruningResult result, OnnxModel scoringModel, PruningOptions options)
    {
        _scorer = scorer;
        Result = result;
        ScoringModel = scoringModel;
        Summary = PruningSummary.Of(result, options);
    }

    /// <summary>The pruned, fine-tuned classifier (same input and output names as the original).</summary>
    public OnnxModel PrunedModel => Result.Model;

    /// <summary>The model the scorer runs: the pruned classifier with the ML.NET columns' names, probabilities in key order and the best slot.</summary>
    public OnnxModel ScoringModel { get; }

    /// <summary>Everything the run reports: widths, kept channels, every candidate's evaluation, the search history, losses.</summary>
    public PruningResult Result { get; }

    /// <summary>Before and after: parameters, MACs, validation accuracy, duration.</summary>
    public PruningSummary Summary { get; }

    /// <inheritdoc/>
    public bool IsRowToRowMapper => _scorer.IsRowToRowMapper;

    /// <inheritdoc/>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => _scorer.GetOutputSchema(inputSchema);

    /// <inheritdoc/>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => _scorer.GetRowToRowMapper(inputSchema);

    /// <summary>Adds the score and predicted-label columns, computed by ONNX Runtime on the pruned model.</summary>
    public IDataView Transform(IDataView input) => _scorer.Transform(input);

    /// <summary>
    /// Writes the pruned classifier as a standalone ONNX file, atomically (a temporary file, then a rename), for any
    /// ONNX runtime.
    /// </summary>
    /// <exception cref="IOException">The file exists and <paramref name="overwrite"/> is false, or the path is a folder.</exception>
    public void SavePrunedModel(string path, bool overwrite = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (Directory.Exists(path)) throw new IOException($"'{path}' is a folder; pass a file name such as {Path.Combine(path, "model.onnx")}.");
        PrunedModel.Save(path, overwrite);
    }

    /// <summary>Saves the scorer (ML.NET's own transformers), which is what <c>mlContext.Model.Save</c> calls.</summary>
    void ICanSaveModel.Save(ModelSaveContext ctx) => _scorer.Save(ctx);

    /// <summary>Releases the ONNX Runtime session.</summary>
    public void Dispose() => (_scorer as IDisposable)?.Dispose();
}
