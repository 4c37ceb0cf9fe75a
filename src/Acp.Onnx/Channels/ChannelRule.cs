namespace Acp.Onnx.Channels;

/// <summary>
/// What Acp knows about how one kind of operator treats channels: how its output channels relate to its input
/// channels (analysis), and what in the node itself names channel counts (surgery). Constants indexed by channels
/// (weights, BatchNormalization parameters) are declared with <see cref="LinkContext.Bind"/> and sliced by the
/// surgery for every rule alike; <see cref="Rewrite"/> handles the rest (attributes, size and shape tensors).
/// </summary>
/// <remarks>Every member is abstract on purpose: a rule that forgets one does not compile.</remarks>
internal abstract class ChannelRule
{
    /// <summary>The standard-domain operators this rule handles.</summary>
    public abstract IReadOnlyList<string> OpTypes { get; }

    /// <summary>
    /// Relates the node's input and output channels (<see cref="LinkContext.Same"/>, <see cref="LinkContext.Map"/>),
    /// declares producers, consumers and per-channel constants, or fences the node when its channels cannot be
    /// followed. Called once per node that touches a tracked value.
    /// </summary>
    public abstract void Link(LinkContext context);

    /// <summary>
    /// Updates what the node states about channel counts (a depthwise group count, split sizes, slice bounds, a
    /// reshape target) after channels are removed. Called for every node that touches a value the plan changes.
    /// </summary>
    public abstract void Rewrite(RewriteContext context);
}
