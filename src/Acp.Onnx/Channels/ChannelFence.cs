using Acp.Onnx.Ir;

namespace Acp.Onnx.Channels;

/// <summary>Why a group cannot be pruned: an operator the channels pass through, or a graph input or output they reach.</summary>
/// <param name="Reason">What prevents pruning, for people.</param>
/// <param name="Node">The node concerned, or null for graph inputs and outputs.</param>
/// <param name="Value">The value whose channels are fenced.</param>
public sealed record ChannelFence(string Reason, Node? Node, string Value)
{
    /// <summary><c>node (Op): reason</c>, or the reason alone when no node is concerned.</summary>
    public override string ToString() => Node is null ? Reason : $"{Node.DisplayName} ({ChannelText.Operator(Node)}): {Reason}";
}
