using Acp.Onnx.Ir;

namespace Acp.Onnx.Analysis;

/// <summary>What <see cref="ShapeInference.Run"/> found. Arrays are shared with the result: do not modify them.</summary>
public sealed class ShapeInferenceResult
{
    internal ShapeInferenceResult(
        IReadOnlyDictionary<string, long[]> shapes, IReadOnlyDictionary<string, ElementType> elementTypes,
        IReadOnlyDictionary<string, OnnxTensor> constants, IReadOnlyDictionary<string, Dimension[]> symbolicShapes,
        IReadOnlyList<ShapeDiagnostic> diagnostics)
    {
        Shapes = shapes;
        ElementTypes = elementTypes;
        Constants = constants;
        SymbolicShapes = symbolicShapes;
        Diagnostics = diagnostics;
    }

    /// <summary>The concrete shape of every value inferred: graph inputs, initializers and node outputs.</summary>
    public IReadOnlyDictionary<string, long[]> Shapes { get; }

    /// <summary>The element type of every value whose type is known.</summary>
    public IReadOnlyDictionary<string, ElementType> ElementTypes { get; }

    /// <summary>
    /// The contents of node outputs folded during inference (Constant nodes and shape computations, at most 1024
    /// elements each). Floating values are float32 tensors and integer or bool values int64 tensors, whatever
    /// their declared type; <see cref="ElementTypes"/> has the real one. Initializers are not repeated here.
    /// </summary>
    public IReadOnlyDictionary<string, OnnxTensor> Constants { get; }

    /// <summary>
    /// The inferred shapes as they can be declared: dimensions that follow a symbolic input dimension carry its
    /// name (e.g. "batch") or are unknown, the rest are fixed. Values whose dependence on the symbols could not be
    /// worked out are missing.
    /// </summary>
    public IReadOnlyDictionary<string, Dimension[]> SymbolicShapes { get; }

    /// <summary>Everything that could not be inferred or was inconsistent, in graph order.</summary>
    public IReadOnlyList<ShapeDiagnostic> Diagnostics { get; }

    /// <summary>The shape of <paramref name="value"/>, or null when unknown.</summary>
    public long[]? ShapeOf(string value) => Shapes.GetValueOrDefault(value);

    /// <summary>
    /// Writes the inferred shapes (as in <see cref="SymbolicShapes"/>) into <paramref name="graph"/>: every value a
    /// node of it produces gets a <see cref="Graph.ValueInfos"/> entry, created or replaced; a graph output keeps
    /// its declaration and only gains the dimensions (or type) it leaves out. Values inference could not work out
    /// keep whatever entry they had, and no entry is created for a value of unknown element type.
    /// </summary>
    /// <returns>How many entries were created or changed.</returns>
    public int ApplyToGraph(Graph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var produced = graph.Nodes.SelectMany(n => n.Outputs).Where(o => o.Length > 0).ToHashSet(StringComparer.Ordinal);
        var outputs = graph.Outputs.GroupBy(o => o.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        var declared = graph.ValueInfos.GroupBy(v => v.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var changed = 0;
        foreach (var (name, shape) in SymbolicShapes)
        {
            if (!produced.Contains(name)) continue;
            ElementType? type = ElementTypes.TryGetValue(name, out var t) ? t : null;
            if (outputs.TryGetValue(name, out var declarations))
            {
                changed += declarations.Count(output => Complete(output, shape, type));
            }
            else if (declared.TryGetValue(name, out var info))
            {
                if (info.Shape is not null && info.Shape.SequenceEqual(shape) && (info.ElementType is not null || type is null)) continue;
                info.Shape = (Dimension[])shape.Clone();
                info.ElementType ??= type;
                changed++;
            }
            else if (type is not null)
            {
                graph.ValueInfos.Add(new ValueInfo(name, type, shape));
                changed++;
            }
        }
        return changed;
    }

    /// <summary>Fills what a graph output's declaration leaves out; true when it changed.</summary>
    private static bool Complete(ValueInfo output, Dimension[] shape, ElementType? type)
    {
        var changed = false;
        if (output.ElementType is null && type is not null)
        {
            output.ElementType = type;
            changed = true;
        }
        if (output.Shape is null)
        {
            output.Shape = (Dimension[])shape.Clone();
            return true;
        }
        if (output.Shape.Length != shape.Length) return changed;
        for (var i = 0; i < shape.Length; i++)
        {
            if (output.Shape[i] == Dimension.Unknown && shape[i] != Dimension.Unknown)
            {
                output.Shape[i] = shape[i];
                changed = true;
            }
        }
        return changed;
    }
}
