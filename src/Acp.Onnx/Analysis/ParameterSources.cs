using Acp.Onnx.Ir;

namespace Acp.Onnx.Analysis;

/// <summary>
/// Resolves a node input to the floating-point tensor it takes learnable parameters from: a float initializer, a
/// Constant node's float tensor, or either seen through Identity nodes (torch.onnx re-creates de-duplicated
/// initializers that way).
/// </summary>
internal sealed class ParameterSources(Graph graph, GraphIndex index)
{
    /// <summary>
    /// A key that identifies the parameter (so that one consumed twice is counted once) and its element count.
    /// The key is the consumed value's name, not the underlying tensor's: torch.onnx replaces distinct PyTorch
    /// parameters that happen to hold equal values by Identity nodes over one initializer, and PyTorch counts each.
    /// </summary>
    public (string Name, long Elements)? Resolve(string value)
    {
        var key = value;
        for (var hops = 0; hops <= graph.Nodes.Count; hops++)
        {
            if (graph.Initializers.TryGet(value, out var initializer))
            {
                return IsFloating(initializer.ElementType) ? (key, initializer.ElementCount) : null;
            }
            switch (index.Producer(value))
            {
                case { IsStandard: true, OpType: "Constant" } constant:
                    return constant.Attribute("value")?.Tensor is { } tensor && IsFloating(tensor.ElementType) ? (key, tensor.ElementCount) : null;
                case { IsStandard: true, OpType: "Identity" } identity when identity.InputAt(0) is { } source:
                    value = source;
                    break;
                default:
                    return null;
            }
        }
        return null;
    }

    /// <summary>True for the element types learnable weights use.</summary>
    public static bool IsFloating(ElementType type) => type is ElementType.Float or ElementType.Double or ElementType.Float16 or ElementType.BFloat16;
}
