using System.Globalization;
using Acp.Onnx.Ir;

namespace Acp.Onnx.Runtime;

/// <summary>What a session reports about one of its inputs or outputs.</summary>
public sealed class NodeMetadata
{
    internal NodeMetadata(string name, bool isTensor, ElementType elementType, long[] dimensions, string?[] symbolicDimensions)
    {
        Name = name;
        IsTensor = isTensor;
        ElementType = elementType;
        Dimensions = Array.AsReadOnly(dimensions);
        SymbolicDimensions = Array.AsReadOnly(symbolicDimensions);
    }

    /// <summary>The input or output name, as the model spells it.</summary>
    public string Name { get; }

    /// <summary>
    /// Whether the value is a tensor. Sequences, maps and other kinds report false, with an undefined
    /// element type and no dimensions.
    /// </summary>
    public bool IsTensor { get; }

    /// <summary>The tensor's element type.</summary>
    public ElementType ElementType { get; }

    /// <summary>
    /// The declared dimensions; -1 marks a dimension that is symbolic or unknown. Empty both for a scalar
    /// and for a value whose shape the model does not declare, which the runtime does not distinguish.
    /// </summary>
    public IReadOnlyList<long> Dimensions { get; }

    /// <summary>The symbolic name of each dimension (such as "batch"), or null where it has none.</summary>
    public IReadOnlyList<string?> SymbolicDimensions { get; }

    /// <summary>The shape as text, such as [batch,3] or [1,?].</summary>
    public string ShapeText => "[" + string.Join(",", Dimensions.Select((d, i) =>
        d >= 0 ? d.ToString(CultureInfo.InvariantCulture) : SymbolicDimensions[i] ?? "?")) + "]";

    /// <summary>The name, element type and shape, such as "X: float[batch,3]".</summary>
    public override string ToString() =>
        IsTensor ? $"{Name}: {ElementTypes.Name(ElementType)}{ShapeText}" : $"{Name}: (not a tensor)";
}
