using Acp.Onnx.Ir;

namespace Acp.Onnx.Channels;

/// <summary>The pruned model and what was done to get it.</summary>
/// <param name="Model">A new model; the analysed one is not changed.</param>
/// <param name="Report">What changed.</param>
public sealed record ChannelSurgeryResult(OnnxModel Model, ChannelSurgeryReport Report);
