using Acp.Onnx.Ir;

namespace Acp.Engine.Backends;

/// <summary>
/// Where a pruning run computes: builds trainable networks from Acp's IR. The pipeline talks only to this seam, so the
/// same run executes on Acp's own CPU engine (<see cref="EngineBackend"/>, the default) or on another implementation
/// (Acp.TorchSharp's <c>TorchSharpBackend</c>, CPU or CUDA). The device belongs to the backend instance.
/// </summary>
/// <remarks>
/// Implementations should be immutable records with a readable <c>ToString</c>: a run folder fingerprints the options
/// by their text, so a resumed run is refused when the backend or device changed.
/// </remarks>
public interface IComputeBackend
{
    /// <summary>The backend's name as the command line spells it (<c>engine</c>, <c>torchsharp</c>).</summary>
    string Name { get; }

    /// <summary>The device the networks compute on (<c>cpu</c>, <c>cuda:0</c>, …).</summary>
    string Device { get; }

    /// <summary>A network of <paramref name="model"/> (not modified; weights are copied) in inference mode.</summary>
    /// <param name="model">The graph and its weights.</param>
    /// <param name="seed">Seeds anything random inside the network (dropout).</param>
    ITrainableNetwork Build(OnnxModel model, int seed);

    /// <summary>
    /// Whether its trainers implement <see cref="NetworkTrainingOptions.AttentionTransfer"/> and
    /// <see cref="NetworkTrainingOptions.Adversarial"/> (the aip strategy's losses). The default is false: a backend that
    /// does not say so is refused for them before a run starts.
    /// </summary>
    bool TransfersKnowledge => false;
}
