using Acp.Onnx.Analysis;
using Acp.Onnx.Ir;

namespace Acp.Onnx.Channels;

/// <summary>Where a constant node input comes from, when surgery can rewrite it.</summary>
/// <param name="Name">The initializer's name, or the Constant node's output name.</param>
/// <param name="Tensor">The contents.</param>
/// <param name="ConstantNode">The Constant node holding it, or null for an initializer.</param>
internal sealed record ConstantSource(string Name, OnnxTensor Tensor, Node? ConstantNode);

/// <summary>
/// Finds the contents of constant node inputs. A rewritable constant is an initializer or a Constant node's
/// <c>value</c> tensor, possibly seen through Identity nodes (torch.onnx shares de-duplicated initializers that
/// way); anything else shape inference folded is known but computed, so surgery cannot rewrite it in place.
/// </summary>
internal sealed class ConstantResolver(Graph graph, GraphIndex index, ShapeInferenceResult shapes)
{
    /// <summary>The rewritable constant behind <paramref name="value"/>, or null when it is computed or unknown.</summary>
    public ConstantSource? Resolve(string? value)
    {
        for (var hops = 0; value is not null && hops <= graph.Nodes.Count; hops++)
        {
            if (graph.Initializers.TryGet(value, out var initializer))
            {
                // Old exporters also list every initializer as a graph input (a default value); those are still weights.
                return new ConstantSource(value, initializer, null);
            }
            switch (index.Producer(value))
            {
                case { IsStandard: true, OpType: "Constant" } constant when constant.Attribute("value")?.Tensor is { } tensor:
                    return new ConstantSource(value, tensor, constant);
                case { IsStandard: true, OpType: "Identity" } identity:
                    value = identity.InputAt(0);
                    break;
                default:
                    return null;
            }
        }
        return null;
    }

    /// <summary>The contents of <paramref name="value"/> when known: a rewritable constant or a value shape inference folded.</summary>
    public OnnxTensor? Contents(string? value) =>
        value is null ? null : Resolve(value)?.Tensor ?? shapes.Constants.GetValueOrDefault(value);
}
