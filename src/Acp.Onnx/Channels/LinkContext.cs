using Acp.Onnx.Analysis;
using Acp.Onnx.Ir;

namespace Acp.Onnx.Channels;

/// <summary>
/// A channel rule's view of one node during analysis: its tracked inputs and outputs, the constants it reads,
/// and the ways to say how channels flow through it.
/// </summary>
internal sealed class LinkContext(Node node, long opset, ChannelSpace space, ConstantResolver constants, ShapeInferenceResult shapes)
{
    /// <summary>The node.</summary>
    public Node Node { get; } = node;

    /// <summary>The standard opset version, which decides where some operators keep their parameters.</summary>
    public long Opset { get; } = opset;

    /// <summary>True once the rule fenced the node.</summary>
    public bool Fenced { get; private set; }

    /// <summary>The tracked value at input <paramref name="index"/>, or null when absent or not tracked (a constant).</summary>
    public TrackedValue? Input(int index) => space.Find(Node.InputAt(index));

    /// <summary>The tracked value at output <paramref name="index"/>, or null.</summary>
    public TrackedValue? Output(int index) => space.Find(index < Node.Outputs.Count && Node.Outputs[index].Length > 0 ? Node.Outputs[index] : null);

    /// <summary>The present outputs that are tracked.</summary>
    public IEnumerable<TrackedValue> TrackedOutputs => Node.Outputs.Select(space.Find).OfType<TrackedValue>();

    /// <summary>The inferred shape of input <paramref name="index"/>, or null.</summary>
    public long[]? InputShape(int index) => Node.InputAt(index) is { } name ? shapes.ShapeOf(name) : null;

    /// <summary>The inferred shape of output <paramref name="index"/>, or null.</summary>
    public long[]? OutputShape(int index) => index < Node.Outputs.Count && Node.Outputs[index].Length > 0 ? shapes.ShapeOf(Node.Outputs[index]) : null;

    /// <summary>The rewritable constant at input <paramref name="index"/> (initializer or Constant node), or null.</summary>
    public ConstantSource? Constant(int index) => constants.Resolve(Node.InputAt(index));

    /// <summary>The contents of input <paramref name="index"/> when known, rewritable or folded; null otherwise.</summary>
    public OnnxTensor? Contents(int index) => constants.Contents(Node.InputAt(index));

    /// <summary>Channel c of <paramref name="a"/> is channel c of <paramref name="b"/>; the counts must agree or the node is fenced.</summary>
    public void Same(TrackedValue a, TrackedValue b)
    {
        if (a.Channels != b.Channels)
        {
            Fence($"'{a.Name}' has {a.Channels} channels but '{b.Name}' has {b.Channels}");
            return;
        }
        for (var c = 0; c < a.Channels; c++) space.Link(a, c, b, c);
    }

    /// <summary>Channels [fromStart, fromStart+count) of <paramref name="from"/> are channels [toStart, ...) of <paramref name="to"/>.</summary>
    public void Map(TrackedValue from, int fromStart, TrackedValue to, int toStart, int count)
    {
        for (var c = 0; c < count; c++) space.Link(from, fromStart + c, to, toStart + c);
    }

    /// <summary>Channel <paramref name="a"/> of <paramref name="x"/> is channel <paramref name="b"/> of <paramref name="y"/>.</summary>
    public void Link(TrackedValue x, int a, TrackedValue y, int b) => space.Link(x, a, y, b);

    /// <summary>The node creates the channels of <paramref name="output"/> with its filters: a prunable producer.</summary>
    public void Produce(TrackedValue output)
    {
        space.Origin(output, 0, output.Channels);
        space.Producers.Add(new ChannelProducer(Node, output.Name));
    }

    /// <summary>The node's weights have one input channel per channel of <paramref name="input"/>.</summary>
    public void Consume(TrackedValue input) => space.Consumers.Add(new ChannelConsumer(Node, input.Name));

    /// <summary>
    /// Axis <paramref name="axis"/> of the constant at input <paramref name="index"/> is indexed by the channels of
    /// <paramref name="value"/>, so surgery slices it. The constant must be a float initializer or Constant node
    /// whose axis has one entry per channel; otherwise the node is fenced and false returned.
    /// </summary>
    public bool Bind(int index, int axis, TrackedValue value)
    {
        var source = Constant(index);
        var role = $"input {index} ('{Node.InputAt(index)}')";
        if (source is null)
        {
            Fence($"{role} holds per-channel data but is computed at run time, so it cannot be sliced");
            return false;
        }
        if (!source.Tensor.IsFloat)
        {
            Fence($"{role} holds per-channel data of type {ElementTypes.Name(source.Tensor.ElementType)}, which surgery cannot slice");
            return false;
        }
        if (axis >= source.Tensor.Dims.Length || source.Tensor.Dims[axis] != value.Channels)
        {
            Fence($"{role} has shape [{string.Join(",", source.Tensor.Dims)}], whose axis {axis} does not match the {value.Channels} channels of '{value.Name}'");
            return false;
        }
        space.Bindings.Add(new ChannelBinding(Node, index, axis, value.Name));
        return true;
    }

    /// <summary>
    /// Channels [start, start+count) of <paramref name="value"/> come from something other than the node's tracked
    /// inputs (a constant, a broadcast); they form a group of their own, fenced with <paramref name="reason"/>.
    /// </summary>
    public void FencedOrigin(TrackedValue value, int start, int count, string reason)
    {
        space.Origin(value, start, count);
        space.Fences.Add(new FenceRecord(value, start, count, reason, Node));
    }

    /// <summary>
    /// The node's channels cannot be followed: every tracked input's groups become unprunable, and every tracked
    /// output starts a new, fenced group. Calling it more than once only adds reasons.
    /// </summary>
    public void Fence(string reason)
    {
        Fenced = true;
        foreach (var input in Node.Inputs.Select(space.Find).OfType<TrackedValue>().Distinct())
        {
            space.Fences.Add(new FenceRecord(input, 0, input.Channels, reason, Node));
        }
        foreach (var output in TrackedOutputs) FencedOrigin(output, 0, output.Channels, reason);
    }
}
