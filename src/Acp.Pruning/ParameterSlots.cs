using Acp.Onnx.Ir;

namespace Acp.Pruning;

/// <summary>
/// The node inputs <c>ModelCost</c> counts as learnable parameters, resolved to the tensor behind them. Mirrors
/// its convention: Conv, ConvTranspose and Gemm inputs 1-2; normalisation scale and bias; MatMul and element-wise
/// arithmetic operands (the latter only above one element); PRelu slope; a float initializer or Constant node,
/// also through Identity nodes; each consumed value counted once, for its first consumer in topological order.
/// </summary>
internal static class ParameterSlots
{
    /// <summary>The inputs of <paramref name="node"/> that may hold parameters.</summary>
    public static int[] Inputs(Node node) => !node.IsStandard ? [] : node.OpType switch
    {
        "Conv" or "ConvTranspose" or "Gemm" => [1, 2],
        "BatchNormalization" or "InstanceNormalization" or "LayerNormalization" => [1, 2],
        "MatMul" or "Add" or "Mul" or "Sub" or "Div" => [0, 1],
        "PRelu" => [1],
        _ => [],
    };

    /// <summary>True for element-wise arithmetic, whose operands are parameters only above one element.</summary>
    public static bool IsArithmetic(Node node) => node.OpType is "Add" or "Mul" or "Sub" or "Div";

    /// <summary>The dimensions of the floating-point tensor behind <paramref name="value"/>, or null when it is not a parameter source.</summary>
    public static long[]? Resolve(Graph graph, GraphIndex index, string value)
    {
        for (var hops = 0; hops <= graph.Nodes.Count; hops++)
        {
            if (graph.Initializers.TryGet(value, out var initializer)) return IsFloating(initializer.ElementType) ? initializer.Dims : null;
            switch (index.Producer(value))
            {
                case { IsStandard: true, OpType: "Constant" } constant:
                    return constant.Attribute("value")?.Tensor is { } tensor && IsFloating(tensor.ElementType) ? tensor.Dims : null;
                case { IsStandard: true, OpType: "Identity" } identity when identity.InputAt(0) is { } source:
                    value = source;
                    break;
                default:
                    return null;
            }
        }
        return null;
    }

    private static bool IsFloating(ElementType type) => type is ElementType.Float or ElementType.Double or ElementType.Float16 or ElementType.BFloat16;
}
