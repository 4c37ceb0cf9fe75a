using Acp.Onnx.Ir;

namespace Acp.Onnx.Analysis;

/// <summary>Shape rules of operators that join, cut or index tensors: Concat, Split, Slice, Pad, Gather.</summary>
internal static class IndexingRules
{
    public static void Register(Dictionary<string, Action<NodeContext>> rules)
    {
        rules["Concat"] = Concat;
        rules["Split"] = Split;
        rules["Slice"] = Slice;
        rules["Pad"] = Pad;
        rules["Gather"] = Gather;
    }

    /// <summary>Inputs of equal rank that agree on every dimension but <c>axis</c>, whose sizes add up.</summary>
    private static void Concat(NodeContext context)
    {
        var inputs = Enumerable.Range(0, context.Node.Inputs.Count).Where(context.Has).ToList();
        if (inputs.Count == 0) throw new ShapeRuleException("has no inputs");
        var first = context.Shape(inputs[0]);
        var axis = ShapeMath.Axis(context.Node.GetInt("axis", 1), first.Length);
        var shape = (long[])first.Clone();
        shape[axis] = 0;
        foreach (var i in inputs)
        {
            var s = context.Shape(i);
            if (s.Length != first.Length || Enumerable.Range(0, s.Length).Any(d => d != axis && s[d] != first[d]))
            {
                throw new ShapeRuleException($"input {i} has shape {ShapeMath.Format(s)} but input {inputs[0]} has {ShapeMath.Format(first)}; they must match except on axis {axis}");
            }
            shape[axis] = checked(shape[axis] + s[axis]);
        }
        context.Output(0, shape, value: FoldConcat(inputs.Select(context.Constant).ToList(), shape, axis));
    }

    private static OnnxTensor? FoldConcat(List<OnnxTensor?> parts, long[] shape, int axis)
    {
        if (!Folding.Fits(shape) || parts.Any(p => p is null) || parts.Select(p => p!.IsFloat).Distinct().Count() != 1) return null;
        var outer = ShapeMath.Product(shape[..axis]);
        var floats = new List<float>();
        var ints = new List<long>();
        for (long o = 0; o < outer; o++)
        {
            foreach (var part in parts)
            {
                var block = (int)ShapeMath.Product(part!.Dims[axis..]);
                if (part.IsFloat) floats.AddRange(part.Floats.AsSpan((int)(o * block), block));
                else ints.AddRange(part.Int64s.AsSpan((int)(o * block), block));
            }
        }
        return parts[0]!.IsFloat ? Folding.Floats(shape, floats.ToArray()) : Folding.Ints(shape, ints.ToArray());
    }

    /// <summary>
    /// Split sizes come from input 1 (opset 13+), the split attribute (before), or are equal: num_outputs (opset 18)
    /// gives ceil(dim/n) to every output but the last, which takes the rest; otherwise the dimension must divide evenly.
    /// </summary>
    private static void Split(NodeContext context)
    {
        var x = context.Shape(0);
        var axis = ShapeMath.Axis(context.Node.GetInt("axis", 0), x.Length);
        var dim = x[axis];
        var outputs = context.Node.Outputs.Count;
        long[] sizes;
        if (context.Has(1)) sizes = context.Ints(1, "split sizes");
        else if (context.IntsAttribute("split") is { } split) sizes = split;
        else if (context.Node.Attribute("num_outputs") is { } numOutputs)
        {
            var count = numOutputs.Int;
            if (count < 1) throw new ShapeRuleException($"num_outputs {count} must be positive");
            var chunk = ShapeMath.CeilDiv(dim, count);
            sizes = [.. Enumerable.Repeat(chunk, (int)count - 1), dim - chunk * (count - 1)];
        }
        else
        {
            if (dim % outputs != 0)
            {
                throw new ShapeRuleException($"axis {axis} of size {dim} cannot be split equally into {outputs} outputs");
            }
            sizes = Enumerable.Repeat(dim / outputs, outputs).ToArray();
        }
        if (sizes.Length != outputs || sizes.Any(s => s < 0) || sizes.Sum() != dim)
        {
            throw new ShapeRuleException($"split sizes {ShapeMath.Format(sizes)} do not divide axis {axis} of size {dim} into {outputs} outputs");
        }
        for (var i = 0; i < outputs; i++)
        {
            var shape = (long[])x.Clone();
            shape[axis] = sizes[i];
            context.Output(i, shape);
        }
    }

    /// <summary>
    /// starts, ends, axes and steps come from inputs 1-4 (opset 10+) or attributes (opset 1). Indices are clamped
    /// like numpy: negative ones count from the end, then starts and ends are clipped to the dimension (to
    /// [0, dim-1] and [-1, dim-1] for negative steps).
    /// </summary>
    private static void Slice(NodeContext context)
    {
        var x = context.Shape(0);
        long[] starts, ends, steps;
        long[]? axes;
        if (context.IntsAttribute("starts") is { } startsAttribute)
        {
            starts = startsAttribute;
            ends = context.IntsAttribute("ends") ?? throw new ShapeRuleException("attribute ends is missing");
            axes = context.IntsAttribute("axes");
            steps = Enumerable.Repeat(1L, starts.Length).ToArray();
        }
        else
        {
            starts = context.Ints(1, "starts");
            ends = context.Ints(2, "ends");
            axes = context.Has(3) ? context.Ints(3, "axes") : null;
            steps = context.Has(4) ? context.Ints(4, "steps") : Enumerable.Repeat(1L, starts.Length).ToArray();
        }
        axes ??= Enumerable.Range(0, starts.Length).Select(i => (long)i).ToArray();
        if (ends.Length != starts.Length || axes.Length != starts.Length || steps.Length != starts.Length)
        {
            throw new ShapeRuleException($"starts {ShapeMath.Format(starts)}, ends {ShapeMath.Format(ends)}, axes {ShapeMath.Format(axes)} and steps {ShapeMath.Format(steps)} differ in length");
        }
        var shape = (long[])x.Clone();
        var first = new long[x.Length];
        var step = Enumerable.Repeat(1L, x.Length).ToArray();
        var seen = new HashSet<int>();
        for (var i = 0; i < starts.Length; i++)
        {
            var axis = ShapeMath.Axis(axes[i], x.Length);
            if (!seen.Add(axis)) throw new ShapeRuleException($"axes {ShapeMath.Format(axes)} repeat axis {axis}");
            if (steps[i] == 0) throw new ShapeRuleException($"step on axis {axis} is 0");
            (first[axis], shape[axis]) = SliceRange(x[axis], starts[i], ends[i], steps[i]);
            step[axis] = steps[i];
        }
        var value = context.Constant(0) is { } data && Folding.Fits(shape)
            ? Folding.Pick(data, shape, Folding.StridedSources(shape, x, first, step))
            : null;
        context.Output(0, shape, value: value);
    }

    /// <summary>The first index and element count of a numpy-style slice of a dimension.</summary>
    private static (long First, long Count) SliceRange(long dim, long start, long end, long step)
    {
        if (dim == 0) return (0, 0);
        // Clamp before adding dim so that the INT64_MIN/INT64_MAX sentinels exporters use cannot overflow.
        start = start < 0 ? Math.Max(start, -dim) + dim : start;
        end = end < 0 ? Math.Max(end, -dim - 1) + dim : end;
        if (step > 0)
        {
            start = Math.Clamp(start, 0, dim);
            end = Math.Clamp(end, 0, dim);
            return (start, end > start ? ShapeMath.CeilDiv(end - start, step) : 0);
        }
        start = Math.Clamp(start, 0, dim - 1);
        end = Math.Clamp(end, -1, dim - 1);
        return (start, start > end ? ShapeMath.CeilDiv(start - end, -step) : 0);
    }

    /// <summary>
    /// Pads come from input 1 (opset 11+) or the pads (opset 2) or paddings (opset 1) attribute: all begins, then
    /// all ends, over every axis or the axes of input 3 (opset 18). Negative pads crop.
    /// </summary>
    private static void Pad(NodeContext context)
    {
        var x = context.Shape(0);
        var pads = context.IntsAttribute("pads") ?? context.IntsAttribute("paddings") ?? context.Ints(1, "pads");
        var axes = context.Has(3)
            ? context.Ints(3, "axes").Select(a => ShapeMath.Axis(a, x.Length)).ToArray()
            : Enumerable.Range(0, x.Length).ToArray();
        if (pads.Length != 2 * axes.Length)
        {
            throw new ShapeRuleException($"pads {ShapeMath.Format(pads)} should have {2 * axes.Length} values for the input {ShapeMath.Format(x)}");
        }
        var shape = (long[])x.Clone();
        for (var i = 0; i < axes.Length; i++)
        {
            shape[axes[i]] = x[axes[i]] + pads[i] + pads[i + axes.Length];
            if (shape[axes[i]] < 0)
            {
                throw new ShapeRuleException($"pads {ShapeMath.Format(pads)} crop axis {axes[i]} of size {x[axes[i]]} below zero");
            }
        }
        context.Output(0, shape);
    }

    /// <summary>data[..axis] + indices + data[axis+1..]; constant indices are range-checked, and folded with constant data.</summary>
    private static void Gather(NodeContext context)
    {
        var data = context.Shape(0);
        var indices = context.Shape(1);
        var axis = ShapeMath.Axis(context.Node.GetInt("axis", 0), data.Length);
        long[] shape = [.. data[..axis], .. indices, .. data[(axis + 1)..]];
        OnnxTensor? value = null;
        if (context.Constant(1) is { IsInteger: true } index)
        {
            var dim = data[axis];
            var positions = Array.ConvertAll(index.Int64s, i => i < 0 ? i + dim : i);
            if (positions.Any(p => p < 0 || p >= dim))
            {
                throw new ShapeRuleException($"indices {ShapeMath.Format(index.Int64s)} are out of range for axis {axis} of size {dim}");
            }
            if (context.Constant(0) is { } source && Folding.Fits(shape))
            {
                value = Folding.Pick(source, shape, GatherSources(data, axis, positions));
            }
        }
        context.Output(0, shape, value: value);
    }

    private static int[] GatherSources(long[] data, int axis, long[] positions)
    {
        var outer = ShapeMath.Product(data[..axis]);
        var inner = ShapeMath.Product(data[(axis + 1)..]);
        var sources = new List<int>();
        for (long o = 0; o < outer; o++)
        {
            foreach (var p in positions)
            {
                for (long i = 0; i < inner; i++) sources.Add((int)((o * data[axis] + p) * inner + i));
            }
        }
        return sources.ToArray();
    }
}
