using Acp.Onnx.Ir;

namespace Acp.Onnx.Analysis;

/// <summary>What one inference walk knows so far: shapes, element types and folded values by value name.</summary>
internal sealed class InferenceState(Graph graph, long opset)
{
    /// <summary>The graph being walked.</summary>
    public Graph Graph { get; } = graph;

    /// <summary>The standard opset version, which decides a few operators' input layouts.</summary>
    public long Opset { get; } = opset;

    /// <summary>Concrete shapes of the values known so far.</summary>
    public Dictionary<string, long[]> Shapes { get; } = new(StringComparer.Ordinal);

    /// <summary>Element types of the values known so far.</summary>
    public Dictionary<string, ElementType> Types { get; } = new(StringComparer.Ordinal);

    /// <summary>Contents of node outputs that folding computed (small tensors only).</summary>
    public Dictionary<string, OnnxTensor> Folded { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// The contents of <paramref name="value"/> when known and small: a folded node output, or a small float or
    /// integer initializer.
    /// </summary>
    public OnnxTensor? Constant(string value)
    {
        if (Folded.TryGetValue(value, out var folded)) return folded;
        return Graph.Initializers.TryGet(value, out var initializer) && Folding.IsNumeric(initializer) && initializer.ElementCount <= Folding.MaxElements
            ? initializer
            : null;
    }
}
