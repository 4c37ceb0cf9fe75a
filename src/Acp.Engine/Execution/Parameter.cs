using Acp.Engine.Tensors;

namespace Acp.Engine.Execution;

/// <summary>
/// A trainable tensor of the network (a weight, bias, or BatchNormalization scale or shift), named after the ONNX
/// initializer it came from. The optimizer updates <see cref="Value"/> in place from <see cref="Gradient"/>.
/// </summary>
public sealed class Parameter
{
    internal Parameter(ValueSlot slot)
    {
        Slot = slot;
        Value = new Tensor(slot.Shape, slot.Data);
        Gradient = new Tensor(slot.Shape, slot.Gradient);
    }

    /// <summary>The initializer name.</summary>
    public string Name => Slot.Name;

    /// <summary>The current values.</summary>
    public Tensor Value { get; }

    /// <summary>d(loss)/d(value) from the last backward pass (zeros when the loss does not depend on it).</summary>
    public Tensor Gradient { get; }

    /// <summary>True for tensors that weight decay should not shrink: biases and normalisation parameters (rank 1).</summary>
    public bool IsBiasLike => Value.Rank <= 1;

    internal ValueSlot Slot { get; }

    /// <inheritdoc/>
    public override string ToString() => $"{Name}{Value.ShapeText}";
}
