using Acp.Onnx.Ir;
using Acp.Pruning.Pipeline;

namespace Acp.MLNet;

/// <summary>
/// Everything <see cref="PruneChannelsCatalog.PruneChannels(Microsoft.ML.TransformsCatalog, PruneChannelsOptions)"/> can
/// be told: the model, the columns, where the fitted model scores, and the pruning run itself (<see cref="Pruning"/>,
/// the same <see cref="PruningOptions"/> the command line and the notebooks fill).
/// </summary>
public sealed class PruneChannelsOptions
{
    /// <summary>The .onnx file of the trained classifier; set this or <see cref="Model"/>.</summary>
    public string? ModelPath { get; set; }

    /// <summary>The trained classifier, already loaded (not modified); set this or <see cref="ModelPath"/>.</summary>
    public OnnxModel? Model { get; set; }

    /// <summary>The input column: a float vector of C × H × W per row (channels first), as <c>ExtractPixels</c> makes it.</summary>
    public string FeatureColumnName { get; set; } = "Features";

    /// <summary>The label column: a key with one value per class, or a number holding the class index.</summary>
    public string LabelColumnName { get; set; } = "Label";

    /// <summary>The output column of class probabilities (a float vector, in the label's key order).</summary>
    public string ScoreColumnName { get; set; } = "Score";

    /// <summary>The output column of the predicted class, a key of the label's count.</summary>
    public string PredictedLabelColumnName { get; set; } = "PredictedLabel";

    /// <summary>
    /// The pruning run: budget, strategy, epochs, seed and everything else. <see cref="PruningOptions.Normalization"/>
    /// must stay null: the feature column is model input already.
    /// </summary>
    public PruningOptions Pruning { get; set; } = new();

    /// <summary>Progress of every stage of <c>Fit</c>, reported on the thread that calls it.</summary>
    public IProgress<PruningProgress>? Progress { get; set; }

    /// <summary>Stops <c>Fit</c> between batches or evaluations (<see cref="OperationCanceledException"/>).</summary>
    public CancellationToken CancellationToken { get; set; }

    /// <summary>
    /// The CUDA device the fitted model scores on (ONNX Runtime's CUDA provider, as in <c>ApplyOnnxModel</c>); null =
    /// the CPU. Needs the application to reference Microsoft.ML.OnnxRuntime.Gpu.Linux instead of Microsoft.ML.OnnxRuntime.
    /// </summary>
    public int? GpuDeviceId { get; set; }

    /// <summary>Score on the CPU when <see cref="GpuDeviceId"/> is set but CUDA is not available, instead of failing.</summary>
    public bool FallbackToCpu { get; set; }
}
