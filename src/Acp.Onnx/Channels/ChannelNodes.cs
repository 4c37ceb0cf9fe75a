using Acp.Onnx.Ir;

namespace Acp.Onnx.Channels;

/// <summary>A node whose output channels are the group's channels: a Conv, Gemm or MatMul whose filters are removed.</summary>
/// <param name="Node">The node.</param>
/// <param name="Output">Its output value.</param>
public sealed record ChannelProducer(Node Node, string Output)
{
    /// <summary><c>node (Op)</c>.</summary>
    public override string ToString() => $"{Node.DisplayName} ({ChannelText.Operator(Node)})";
}

/// <summary>A Conv, Gemm or MatMul whose input channels (weight columns) follow the group's channels.</summary>
/// <param name="Node">The node.</param>
/// <param name="Input">The value it reads; its member entry tells which input channels belong to the group.</param>
public sealed record ChannelConsumer(Node Node, string Input)
{
    /// <summary><c>node (Op)</c>.</summary>
    public override string ToString() => $"{Node.DisplayName} ({ChannelText.Operator(Node)})";
}

/// <summary>
/// A constant a node reads whose axis <paramref name="Axis"/> is indexed by the channels of <paramref name="Value"/>:
/// a weight's output or input axis, a BatchNormalization parameter, a per-channel operand. Surgery slices it.
/// </summary>
/// <param name="Node">The node reading the constant.</param>
/// <param name="InputIndex">Which of its inputs.</param>
/// <param name="Axis">The constant's axis that follows the channels.</param>
/// <param name="Value">The value whose channels index that axis.</param>
public sealed record ChannelBinding(Node Node, int InputIndex, int Axis, string Value)
{
    /// <summary>e.g. <c>conv1 (Conv) input 1 axis 0 ← conv1_out</c>.</summary>
    public override string ToString() => $"{Node.DisplayName} ({ChannelText.Operator(Node)}) input {InputIndex} axis {Axis} ← {Value}";
}

/// <summary>Text helpers shared by the channel types' descriptions.</summary>
internal static class ChannelText
{
    /// <summary>The operator as people read it: <c>Conv</c>, or <c>domain::Op</c> outside the standard domain.</summary>
    public static string Operator(Node node) => node.IsStandard ? node.OpType : $"{node.Domain}::{node.OpType}";
}
