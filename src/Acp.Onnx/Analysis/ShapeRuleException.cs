namespace Acp.Onnx.Analysis;

/// <summary>
/// Thrown by a shape rule when a node's inputs or attributes are inconsistent or cannot be resolved; the inference
/// walk turns it into a <see cref="ShapeDiagnostic"/> and leaves the node's outputs unknown.
/// </summary>
internal sealed class ShapeRuleException(string message) : Exception(message);
