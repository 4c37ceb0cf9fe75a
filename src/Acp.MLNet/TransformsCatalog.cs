using Acp.Pruning.Pipeline;

namespace Acp.MLNet;

/// <summary>
/// Estimators that transform models and data (ML.NET's <c>TransformsCatalog</c>, <c>mlContext.Transforms</c>), reached
/// through <see cref="AcpContext.Transforms"/>.
/// </summary>
public sealed class TransformsCatalog
{
    private readonly AcpContext _context;

    internal TransformsCatalog(AcpContext context) => _context = context;

    /// <summary>Prunes channels of a trained ONNX image classifier to a FLOPs budget, with the common settings.</summary>
    /// <param name="modelPath">The trained model's .onnx file.</param>
    /// <param name="targetFlops">The pruned model keeps at most this fraction of the FLOPs (0.5 = half), in (0, 1].</param>
    /// <param name="strategy">How the pruned structure is chosen (default: <see cref="PruneChannelsOptions.Strategy"/>'s).</param>
    /// <param name="epochs">Epochs of fine-tuning after pruning (default: <see cref="PruneChannelsOptions.Epochs"/>'s).</param>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="modelPath"/>.</exception>
    /// <exception cref="ArgumentException">An argument is out of range, or the model is not a prunable image classifier.</exception>
    /// <example>
    /// <code>
    /// var ctx = new AcpContext(seed: 1);
    /// var train = ctx.Data.LoadImages("fashion-mnist", DatasetSplit.Train);
    /// using var pruned = ctx.Transforms.PruneChannels("model.onnx", targetFlops: 0.5).Fit(train);
    /// pruned.Save("model.pruned.onnx");
    /// </code>
    /// </example>
    public PruneChannelsEstimator PruneChannels(string modelPath, double targetFlops = 0.5, PruningStrategy? strategy = null, int? epochs = null)
    {
        // Null means the pipeline's default, so that PruningOptions stays the one home of defaults.
        var options = new PruneChannelsOptions { ModelPath = modelPath, TargetFlops = targetFlops };
        if (strategy is { } chosen) options.Strategy = chosen;
        if (epochs is { } count) options.Epochs = count;
        return PruneChannels(options);
    }

    /// <summary>Prunes channels of a trained ONNX image classifier as <paramref name="options"/> say.</summary>
    /// <remarks>The model is loaded and every option checked here, before any data is read.</remarks>
    /// <exception cref="FileNotFoundException">There is no file at <see cref="PruneChannelsOptions.ModelPath"/>.</exception>
    /// <exception cref="Acp.Onnx.OnnxModelException">The file is not a valid ONNX model, or its normalisation metadata is malformed.</exception>
    /// <exception cref="ArgumentException">
    /// An option is invalid (the parameter name says which), or the model is not a prunable image classifier.
    /// </exception>
    public PruneChannelsEstimator PruneChannels(PruneChannelsOptions options) => new(_context, options);
}

/// <summary>Loading and saving models (ML.NET's <c>ModelOperationsCatalog</c>, <c>mlContext.Model</c>).</summary>
public sealed class ModelOperationsCatalog
{
    private readonly AcpContext _context;

    internal ModelOperationsCatalog(AcpContext context) => _context = context;

    /// <summary>
    /// Loads a saved model (a pruned one, or any ONNX image classifier) ready to score images. Unlike ML.NET's zip, the
    /// file is plain ONNX: the normalisation travels in its metadata and the pruning report is not kept.
    /// </summary>
    /// <param name="path">The .onnx file.</param>
    /// <param name="normalization">How pixels become input; null = the model's metadata, else [0, 1] scaling.</param>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="Acp.Onnx.OnnxModelException">The file is not a valid ONNX model.</exception>
    /// <exception cref="ArgumentException">The model is not an image classifier.</exception>
    public OnnxImageTransformer Load(string path, Acp.Engine.Data.ChannelNormalization? normalization = null)
    {
        var transformer = OnnxImageTransformer.Load(path, normalization, _context);
        _context.Write(AcpLogKind.Info, nameof(Load), $"loaded {transformer.ImageShape} classifier of {transformer.ClassCount} classes from {path}");
        return transformer;
    }

    /// <summary>Writes <paramref name="model"/> to <paramref name="path"/> (ML.NET's <c>Model.Save</c>); see <see cref="IImageTransformer.Save"/>.</summary>
    public void Save(IImageTransformer model, string path, bool overwrite = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        model.Save(path, overwrite);
    }
}
