using Acp.Pruning.Pipeline;
using Microsoft.ML;

namespace Acp.MLNet;

/// <summary>The <c>PruneChannels</c> estimator on ML.NET's <c>mlContext.Transforms</c>.</summary>
public static class PruneChannelsCatalog
{
    /// <summary>
    /// Prunes channels of a trained ONNX image classifier to a FLOPs budget: <c>Fit</c> runs Acp on the rows of the
    /// data and returns a transformer that scores with the slim model.
    /// </summary>
    /// <param name="catalog">The transforms catalog (<c>mlContext.Transforms</c>).</param>
    /// <param name="modelPath">The trained classifier's .onnx file.</param>
    /// <param name="targetFlops">The pruned model keeps at most this fraction of the FLOPs (0.5 = half), in (0, 1].</param>
    /// <param name="featureColumnName">A float vector of C × H × W per row, channels first.</param>
    /// <param name="labelColumnName">A key (or a number holding the class index).</param>
    /// <param name="epochs">Epochs of fine-tuning after pruning; null = <see cref="PruningOptions.Epochs"/>' default.</param>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="modelPath"/>.</exception>
    /// <exception cref="ArgumentException">A setting is out of range, or the model is not an image classifier.</exception>
    public static PruneChannelsEstimator PruneChannels(this TransformsCatalog catalog, string modelPath, double targetFlops,
        string featureColumnName = "Features", string labelColumnName = "Label", int? epochs = null)
    {
        var pruning = new PruningOptions { TargetFlops = targetFlops };
        if (epochs is { } count) pruning = pruning with { Epochs = count };
        return PruneChannels(catalog, new PruneChannelsOptions
        {
            ModelPath = modelPath,
            FeatureColumnName = featureColumnName,
            LabelColumnName = labelColumnName,
            Pruning = pruning,
        });
    }

    /// <summary>Prunes channels of a trained ONNX image classifier as <paramref name="options"/> say.</summary>
    /// <param name="catalog">The transforms catalog (<c>mlContext.Transforms</c>).</param>
    /// <param name="options">The model, the columns and the pruning run.</param>
    /// <exception cref="FileNotFoundException">There is no file at <see cref="PruneChannelsOptions.ModelPath"/>.</exception>
    /// <exception cref="Acp.Onnx.OnnxModelException">The file is not a valid ONNX model.</exception>
    /// <exception cref="ArgumentException">A setting is invalid, or the model is not an image classifier.</exception>
    public static PruneChannelsEstimator PruneChannels(this TransformsCatalog catalog, PruneChannelsOptions options) =>
        new(catalog, options);
}
