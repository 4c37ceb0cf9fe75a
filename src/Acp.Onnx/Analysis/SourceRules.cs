using Acp.Onnx.Ir;

namespace Acp.Onnx.Analysis;

/// <summary>
/// Shape rules of operators whose output is (or describes) a constant: Constant, ConstantOfShape, Range, Shape,
/// Size. Their small outputs are folded, which is what resolves the shape computations exporters emit.
/// </summary>
internal static class SourceRules
{
    public static void Register(Dictionary<string, Action<NodeContext>> rules)
    {
        rules["Constant"] = Constant;
        rules["ConstantOfShape"] = ConstantOfShape;
        rules["Range"] = Range;
        rules["Shape"] = Shape;
        rules["Size"] = Size;
    }

    /// <summary>The shape and contents of whichever value attribute is set.</summary>
    private static void Constant(NodeContext context)
    {
        var attribute = context.Node.Attributes.FirstOrDefault(a => a.Name.StartsWith("value", StringComparison.Ordinal) || a.Name == "sparse_value")
            ?? throw new ShapeRuleException("has no value attribute");
        switch (attribute.Name)
        {
            case "value" when attribute.Tensor is { } tensor:
                context.Output(0, tensor.Dims, tensor.ElementType, Folding.IsNumeric(tensor) ? tensor : null);
                break;
            case "value_float":
                context.Output(0, [], ElementType.Float, Folding.Floats([], [attribute.Float]));
                break;
            case "value_floats":
                context.Output(0, [attribute.Floats.Length], ElementType.Float, Folding.Floats([attribute.Floats.Length], attribute.Floats));
                break;
            case "value_int":
                context.Output(0, [], ElementType.Int64, Folding.Ints([], [attribute.Int]));
                break;
            case "value_ints":
                context.Output(0, [attribute.Ints.Length], ElementType.Int64, Folding.Ints([attribute.Ints.Length], attribute.Ints));
                break;
            case "value_string":
                context.Output(0, [], ElementType.String);
                break;
            case "value_strings":
                context.Output(0, [attribute.Proto.Strings.Count], ElementType.String);
                break;
            default:
                throw new ShapeRuleException($"its {attribute.Name} attribute ({attribute.Kind}) is not supported");
        }
    }

    /// <summary>A tensor of the shape in input 0, filled with the value attribute (float 0 by default).</summary>
    private static void ConstantOfShape(NodeContext context)
    {
        var shape = context.Ints(0, "shape");
        if (shape.Any(d => d < 0)) throw new ShapeRuleException($"shape {ShapeMath.Format(shape)} has a negative dimension");
        var fill = context.Node.Attribute("value")?.Tensor;
        var type = fill?.ElementType ?? ElementType.Float;
        OnnxTensor? value = null;
        if (Folding.Fits(shape))
        {
            var count = (int)ShapeMath.Product(shape);
            if (fill is null) value = Folding.Floats(shape, new float[count]);
            else if (fill.ElementCount == 1 && fill.IsFloat) value = Folding.Floats(shape, Enumerable.Repeat(fill.Floats[0], count).ToArray());
            else if (fill.ElementCount == 1 && fill.IsInteger) value = Folding.Ints(shape, Enumerable.Repeat(fill.Int64s[0], count).ToArray());
        }
        context.Output(0, shape, type, value);
    }

    /// <summary>max(ceil((limit - start) / delta), 0) elements; start, limit and delta must be known scalars.</summary>
    private static void Range(NodeContext context)
    {
        OnnxTensor Scalar(int index, string role) => context.Constant(index) is { ElementCount: 1 } t
            ? t
            : throw new ShapeRuleException($"the {role} (input '{context.Node.InputAt(index)}') is computed at run time and could not be folded to a constant");
        var start = Scalar(0, "start");
        var limit = Scalar(1, "limit");
        var delta = Scalar(2, "delta");
        OnnxTensor? value = null;
        long count;
        if (start.IsInteger && limit.IsInteger && delta.IsInteger)
        {
            var (s, l, d) = (start.Int64s[0], limit.Int64s[0], delta.Int64s[0]);
            if (d == 0) throw new ShapeRuleException("delta is 0");
            count = Math.Max(d > 0 ? ShapeMath.CeilDiv(l - s, d) : ShapeMath.CeilDiv(s - l, -d), 0);
            if (Folding.Fits([count])) value = Folding.Ints([count], Enumerable.Range(0, (int)count).Select(i => s + i * d).ToArray());
        }
        else if (start.IsFloat && limit.IsFloat && delta.IsFloat)
        {
            var (s, l, d) = (start.Floats[0], limit.Floats[0], delta.Floats[0]);
            if (d == 0) throw new ShapeRuleException("delta is 0");
            count = Math.Max((long)Math.Ceiling(((double)l - s) / d), 0);
            if (Folding.Fits([count])) value = Folding.Floats([count], Enumerable.Range(0, (int)count).Select(i => s + i * d).ToArray());
        }
        else
        {
            throw new ShapeRuleException("start, limit and delta mix integer and float types");
        }
        context.Output(0, [count], value: value);
    }

    /// <summary>The input's dimensions from start to end (opset 15; both clamped), as an int64 vector.</summary>
    private static void Shape(NodeContext context)
    {
        var x = context.Shape(0);
        var rank = x.Length;
        long Clamp(long i) => Math.Clamp(i < 0 ? i + rank : i, 0, rank);
        var start = (int)Clamp(context.Node.GetInt("start", 0));
        var end = (int)Clamp(context.Node.GetInt("end", rank));
        var dims = end > start ? x[start..end] : [];
        context.Output(0, [dims.Length], ElementType.Int64, Folding.Ints([dims.Length], dims));
    }

    /// <summary>The input's element count as an int64 scalar.</summary>
    private static void Size(NodeContext context) =>
        context.Output(0, [], ElementType.Int64, Folding.Ints([], [ShapeMath.Product(context.Shape(0))]));
}
