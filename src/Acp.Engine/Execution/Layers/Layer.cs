using Acp.Onnx.Ir;

namespace Acp.Engine.Execution.Layers;

/// <summary>
/// The run-time form of one ONNX node: forward and backward side by side. Inputs and outputs are value slots owned by
/// the network; a layer computes only the input gradients whose slot requires one.
/// </summary>
internal abstract class Layer(Node node, ValueSlot?[] inputs, ValueSlot[] outputs)
{
    public Node Node { get; } = node;

    /// <summary>Input slots in the node's input order; null for an omitted optional input.</summary>
    public ValueSlot?[] Inputs { get; } = inputs;

    public ValueSlot[] Outputs { get; } = outputs;

    /// <summary>What the profile calls this layer: the operator, or the operators a fused layer runs joined by '+'.</summary>
    public virtual string OpName => Node.OpType;

    /// <summary>Input positions whose initializer is a trainable parameter (weights, biases, BN scale and shift).</summary>
    public virtual IEnumerable<int> LearnableInputs => [];

    /// <summary>The initializer slots this layer trains.</summary>
    public IEnumerable<ValueSlot> TrainableInputs =>
        LearnableInputs.Where(i => i < Inputs.Length).Select(i => Inputs[i]).OfType<ValueSlot>().Where(s => s.IsPersistent);

    /// <summary>Called when shapes change (output slots already resized): computes geometry and validates.</summary>
    public virtual void Plan()
    {
    }

    public abstract void Forward(bool training);

    /// <summary>Bytes of the activation-sized scratch this layer keeps between passes.</summary>
    public virtual long BufferBytes => 0;

    /// <summary>Drops the activation-sized scratch this layer keeps between passes (it is allocated again when needed).</summary>
    public virtual void ReleaseBuffers()
    {
    }

    public abstract void Backward();

    protected ValueSlot Input(int index) =>
        Inputs.Length > index && Inputs[index] is { } slot ? slot : throw Error($"input {index} is missing");

    protected ValueSlot? OptionalInput(int index) => Inputs.Length > index ? Inputs[index] : null;

    protected EngineException Error(string problem) =>
        new($"Node '{Node.DisplayName}' ({Node.OpType}): {problem}.");

    /// <summary>A scalar float from an optional constant input (Clip's min and max, for example).</summary>
    protected float? ConstantScalar(int index)
    {
        if (OptionalInput(index) is not { } slot) return null;
        if (slot.Constant is { IsFloat: true } c && c.ElementCount == 1) return c.Floats[0];
        throw Error($"input {index} ('{slot.Name}') must be a constant scalar");
    }

    /// <summary>Integer values of a constant input (shapes, axes, pads), or null when the input is omitted.</summary>
    protected long[]? ConstantInts(int index)
    {
        if (OptionalInput(index) is not { } slot) return null;
        if (slot.Constant is { IsInteger: true } c) return c.Int64s;
        throw Error($"input {index} ('{slot.Name}') must be a constant integer tensor");
    }

    /// <summary>
    /// The buffer to write input <paramref name="index"/>'s gradient contribution into, or null when that input needs
    /// no gradient. Pair every non-null result with <see cref="EndInputGradient"/>.
    /// </summary>
    protected float[]? BeginInputGradient(int index) =>
        OptionalInput(index) is { RequiresGradient: true } slot ? slot.BeginGradient() : null;

    protected void EndInputGradient(int index) => Input(index).EndGradient();

    protected static int[] Dims(ValueSlot slot) => slot.Shape;
}
