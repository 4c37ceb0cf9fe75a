using Acp.Onnx.Format;

namespace Acp.Onnx.Ir;

/// <summary>
/// The declared name, element type and shape of a graph input, output or intermediate value.
/// Types other than tensors (sequences, maps) keep <see cref="ElementType"/> null and survive a save unchanged.
/// </summary>
public sealed class ValueInfo
{
    /// <summary>Creates a tensor value description. A null shape means the rank is unknown.</summary>
    public ValueInfo(string name, ElementType? elementType, IReadOnlyList<Dimension>? shape)
    {
        Name = name;
        ElementType = elementType;
        Shape = shape?.ToArray();
    }

    /// <summary>The value's name, unique in the graph.</summary>
    public string Name { get; set; }

    /// <summary>The tensor element type, or null when the value is not a tensor or has no type.</summary>
    public ElementType? ElementType { get; set; }

    /// <summary>The declared shape, or null when not declared.</summary>
    public Dimension[]? Shape { get; set; }

    /// <summary>The proto this was read from, kept so that fields Acp does not model survive a save.</summary>
    internal ValueInfoProto? Source { get; init; }

    /// <summary>True when the type is something other than a tensor (kept verbatim on save).</summary>
    internal bool IsOpaqueType => Source?.Type is { } t && t.ValueCase != TypeProto.ValueOneofCase.TensorType && t.ValueCase != TypeProto.ValueOneofCase.None;

    /// <summary>A deep copy.</summary>
    public ValueInfo Clone() => new(Name, ElementType, Shape) { Source = Source };

    /// <summary>Shape as text, e.g. [batch,3,224,224].</summary>
    public string ShapeText => Shape is null ? "?" : "[" + string.Join(",", Shape) + "]";

    /// <inheritdoc/>
    public override string ToString() => $"{Name}: {(ElementType is { } t ? ElementTypes.Name(t) : "?")}{ShapeText}";

    internal static ValueInfo FromProto(ValueInfoProto proto)
    {
        ElementType? type = null;
        Dimension[]? shape = null;
        if (proto.Type?.ValueCase == TypeProto.ValueOneofCase.TensorType)
        {
            var tensorType = proto.Type.TensorType;
            type = tensorType.ElemType == 0 ? null : (ElementType)tensorType.ElemType;
            if (tensorType.Shape is not null)
            {
                shape = tensorType.Shape.Dim.Select(d => d.ValueCase switch
                {
                    TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue => Dimension.Fixed(d.DimValue),
                    TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam => Dimension.Symbolic(d.DimParam),
                    _ => Dimension.Unknown,
                }).ToArray();
            }
        }
        return new ValueInfo(proto.Name, type, shape) { Source = proto };
    }

    internal ValueInfoProto ToProto()
    {
        var proto = Source?.Clone() ?? new ValueInfoProto();
        proto.Name = Name;
        if (IsOpaqueType)
        {
            return proto;
        }
        if (ElementType is null && Shape is null)
        {
            proto.Type = null;
            return proto;
        }
        var tensorType = proto.Type?.TensorType?.Clone() ?? new TypeProto.Types.Tensor();
        tensorType.ElemType = (int)(ElementType ?? Ir.ElementType.Undefined);
        if (Shape is null)
        {
            tensorType.Shape = null;
        }
        else
        {
            var shape = new TensorShapeProto();
            foreach (var d in Shape)
            {
                var dim = new TensorShapeProto.Types.Dimension();
                if (d.Value is { } v) dim.DimValue = v;
                else if (d.Param is { } p) dim.DimParam = p;
                shape.Dim.Add(dim);
            }
            tensorType.Shape = shape;
        }
        var type = proto.Type?.Clone() ?? new TypeProto();
        type.TensorType = tensorType;
        proto.Type = type;
        return proto;
    }
}
