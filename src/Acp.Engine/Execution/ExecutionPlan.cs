using Acp.Engine.Execution.Layers;

namespace Acp.Engine.Execution;

/// <summary>
/// What a pass depends on besides the data: its mode, the fusion switches, the profile, and generations that change
/// when the input shape is re-planned or a hook or mask is added or removed. A plan is reused while these are equal.
/// </summary>
internal readonly record struct PassSettings(
    bool Training, bool FuseInference, bool FuseTraining, bool PadActivations, LayerProfile? Profile, int ShapeGeneration, int HookGeneration);

/// <summary>
/// The layer list one kind of pass runs: the network's node layers rewritten once by the fusion passes (inference:
/// <see cref="InferenceFusion"/>, Conv [→ BatchNormalization] [→ Add] [→ Relu] as <see cref="ConvBatchNormLayer"/>;
/// training: <see cref="TrainingFusion"/>, <see cref="BatchNormReluLayer"/> and <see cref="AddReluLayer"/>), each
/// layer wrapped in a <see cref="ProfiledLayer"/> when a profile is attached. The executor runs the list forward and,
/// after a training pass, backward, with no knowledge of fusion or profiling.
/// </summary>
/// <remarks>
/// A fused layer stands at the position of the last node it computes, where every value it reads has been computed;
/// the positions of its other nodes are dropped. Which chains and pairs fuse depends on hooks, masks and shapes, so a
/// plan is made for given <see cref="PassSettings"/> and rebuilt when they change, not at every pass.
/// </remarks>
internal sealed class ExecutionPlan
{
    private ExecutionPlan(PassSettings settings, Layer[] layers, int paddedValueCount, bool keepsBackwardValues)
    {
        Settings = settings;
        Layers = layers;
        PaddedValueCount = paddedValueCount;
        KeepsBackwardValues = keepsBackwardValues;
    }

    /// <summary>
    /// False when a fused chain without a normalisation skips values a backward pass reads (see
    /// <see cref="InferenceFusion.ConvChain.HasNorm"/>): a backward after this pass must replay it unfused.
    /// </summary>
    public bool KeepsBackwardValues { get; }

    /// <summary>What the plan was made for.</summary>
    public PassSettings Settings { get; }

    /// <summary>The layers to run, in forward order.</summary>
    public IReadOnlyList<Layer> Layers { get; }

    /// <summary>How many values this pass hands from one fused convolution to the next in a padded buffer.</summary>
    public int PaddedValueCount { get; }

    /// <summary>Plans a pass over <paramref name="nodes"/> (the node layers in topological order, shapes planned).</summary>
    public static ExecutionPlan Build(IReadOnlyList<Layer> nodes, InferenceFusion inference, TrainingFusion training, PassSettings settings)
    {
        var replacements = new Layer?[nodes.Count];
        var skips = new bool[nodes.Count];
        var padded = 0;
        if (!settings.Training && settings.FuseInference)
        {
            inference.Rewrite(settings.PadActivations, replacements, skips);
            padded = inference.PaddedValueCount;
        }
        else if (settings.Training && settings.FuseTraining)
        {
            training.Rewrite(replacements, skips);
        }
        var layers = new List<Layer>(nodes.Count);
        var keepsBackwardValues = true;
        for (var i = 0; i < nodes.Count; i++)
        {
            if (skips[i]) continue;
            var layer = replacements[i] ?? nodes[i];
            if (layer is ConvBatchNormLayer { HasNorm: false }) keepsBackwardValues = false;
            layers.Add(settings.Profile is { } profile ? new ProfiledLayer(layer, profile) : layer);
        }
        return new ExecutionPlan(settings, [.. layers], padded, keepsBackwardValues);
    }
}
