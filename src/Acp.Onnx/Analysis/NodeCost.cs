using Acp.Onnx.Ir;

namespace Acp.Onnx.Analysis;

/// <summary>The cost of one node under the convention of <see cref="ModelCost"/>.</summary>
/// <param name="Node">The node.</param>
/// <param name="OpType">Its operator.</param>
/// <param name="Params">Learnable parameter elements attributed to this node (each initializer to its first consumer).</param>
/// <param name="Macs">Multiply-accumulates; 0 for operators not counted, null for a counted one whose shapes are unknown.</param>
/// <param name="OutputChannels">
/// The channel count of the first output: its last dimension for Gemm and MatMul, dimension 1 otherwise; null
/// when unknown or the output has rank below 2.
/// </param>
/// <param name="OutputShape">The inferred shape of the first output, or null when unknown.</param>
public sealed record NodeCost(Node Node, string OpType, long Params, long? Macs, long? OutputChannels, long[]? OutputShape);
