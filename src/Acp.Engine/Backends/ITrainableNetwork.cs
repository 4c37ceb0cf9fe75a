using Acp.Data;
using Acp.Engine.Tensors;
using Acp.Engine.Training;
using Acp.Onnx.Ir;

namespace Acp.Engine.Backends;

/// <summary>
/// A network built by an <see cref="IComputeBackend"/>: the operations a pruning run needs (forward with value captures,
/// channel masks, BatchNormalization re-fit, scoring, SGD training, direct access to the weights, and writing them back
/// into the IR).
/// </summary>
public interface ITrainableNetwork : IDisposable
{
    /// <summary>Names of every value a forward pass computes (what <see cref="Capture"/> and <see cref="SetChannelMask"/> accept).</summary>
    IEnumerable<string> ComputedValues { get; }

    /// <summary>Initializer names of the trainable parameters, in graph order.</summary>
    IReadOnlyList<string> ParameterNames { get; }

    /// <summary>
    /// Runs one batch (NCHW <paramref name="shape"/>) in inference or training mode and returns the output. Observers
    /// registered with <see cref="Capture"/> see their values. The returned tensor may be reused by the next call.
    /// </summary>
    Tensor Forward(int[] shape, ReadOnlySpan<float> images, bool training = false);

    /// <summary>
    /// Calls <paramref name="observer"/> with <paramref name="value"/> every time a forward pass computes it (after any
    /// mask); the tensor may be reused: copy what you keep. Disposing the handle removes the hook.
    /// </summary>
    IDisposable Capture(string value, Action<Tensor> observer);

    /// <summary>Forces channels (axis 1) of <paramref name="value"/> to zero in forward and backward; null clears the mask.</summary>
    void SetChannelMask(string value, bool[]? keep);

    /// <summary>Re-fits every BatchNormalization's running statistics to <paramref name="batches"/>, each batch counting equally.</summary>
    void RefitBatchNorm(IReadOnlyList<Tensor> batches, CancellationToken cancellation = default);

    /// <summary>Top-1 in inference mode: how many of the batches' images are classified right, of how many.</summary>
    (int Correct, int Images) Score(IEnumerable<Batch> batches, CancellationToken cancellation = default);

    /// <summary>A trainer that takes SGD steps on this network's parameters.</summary>
    INetworkTrainer CreateTrainer(NetworkTrainingOptions options);

    /// <summary>A copy of parameter <paramref name="name"/>'s current values (row-major) and its shape.</summary>
    /// <exception cref="KeyNotFoundException">No trainable parameter has that name.</exception>
    (int[] Shape, float[] Data) ReadParameter(string name);

    /// <summary>Overwrites parameter <paramref name="name"/> with <paramref name="data"/> (same length, row-major).</summary>
    /// <exception cref="KeyNotFoundException">No trainable parameter has that name.</exception>
    /// <exception cref="ArgumentException">The data's length differs from the parameter's.</exception>
    void WriteParameter(string name, ReadOnlySpan<float> data);

    /// <summary>Copies the current weights and running statistics into <paramref name="model"/>'s initializers (by name).</summary>
    void WriteWeightsTo(OnnxModel model);

    /// <summary>
    /// Frees the memory held for passes (activations, gradients, scratch) while keeping the weights, for a network that
    /// stays alive but idle for a while (the original network between its stages); the next pass allocates again and
    /// computes the same. The default does nothing (a backend whose passes hold no memory between calls).
    /// </summary>
    void ReleaseBuffers()
    {
    }
}

/// <summary>SGD training of an <see cref="ITrainableNetwork"/>, one step at a time.</summary>
public interface INetworkTrainer : IDisposable
{
    /// <summary>
    /// One optimizer step on <paramref name="batch"/> at learning rate <paramref name="rate"/>, in training mode.
    /// <paramref name="teacherLogits"/> (batch × classes) are the distillation targets; empty = run the options'
    /// teacher, if any.
    /// </summary>
    StepResult Step(Batch batch, float rate, ReadOnlySpan<float> teacherLogits = default);

    /// <summary>The optimizer's state (momentum buffers) for a checkpoint; empty when the backend cannot save it.</summary>
    byte[] ExportState();

    /// <summary>Restores a state <see cref="ExportState"/> returned; an empty state leaves the optimizer fresh.</summary>
    void ImportState(byte[] state);
}

/// <summary>How an <see cref="INetworkTrainer"/> trains.</summary>
public sealed record NetworkTrainingOptions
{
    /// <summary>Optimizer settings (momentum, Nesterov, weight decay).</summary>
    public SgdOptions Sgd { get; init; } = new();

    /// <summary>Label smoothing ε of the cross-entropy.</summary>
    public float LabelSmoothing { get; init; }

    /// <summary>Distil from a teacher, or null for plain cross-entropy.</summary>
    public NetworkDistillation? Distillation { get; init; }

    /// <summary>
    /// Attention transfer from the distillation teacher on named feature maps, or null. Needs
    /// <see cref="Distillation"/> with a teacher network of the same backend (its weight may be 0).
    /// </summary>
    public AttentionTransferOptions? AttentionTransfer { get; init; }

    /// <summary>
    /// An adversarial term from a discriminator of the teacher's and the student's outputs, trained in alternation, or
    /// null. Needs <see cref="Distillation"/> with a teacher network of the same backend; the discriminator's state is
    /// part of <see cref="INetworkTrainer.ExportState"/>.
    /// </summary>
    public AdversarialOptions? Adversarial { get; init; }

    /// <summary>Whether the options ask for the knowledge-transfer terms beyond logit distillation.</summary>
    public bool TransfersKnowledge => AttentionTransfer is not null || Adversarial is not null;
}

/// <summary>Knowledge distillation: loss = (1 − Weight)·CE + Weight·KL(teacher ‖ student)·T².</summary>
/// <param name="Teacher">The teacher, run in inference mode on each batch when the caller passes no logits; null =
/// the caller always passes them.</param>
/// <param name="Temperature">Softmax temperature T.</param>
/// <param name="Weight">Share of the distillation term, 0..1.</param>
public sealed record NetworkDistillation(ITrainableNetwork? Teacher, float Temperature = 4f, float Weight = 0.7f);
