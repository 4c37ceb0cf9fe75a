namespace Acp.Onnx.Analysis;

/// <summary>Shape rules of operators that rearrange dimensions: Reshape, Flatten, Transpose, Squeeze, Unsqueeze, Expand.</summary>
internal static class LayoutRules
{
    public static void Register(Dictionary<string, Action<NodeContext>> rules)
    {
        rules["Reshape"] = Reshape;
        rules["Flatten"] = Flatten;
        rules["Transpose"] = Transpose;
        rules["Squeeze"] = Squeeze;
        rules["Unsqueeze"] = Unsqueeze;
        rules["Expand"] = Expand;
    }

    /// <summary>
    /// The target shape comes from input 1 (opset 5+) or the shape attribute (opset 1). A 0 copies the input's
    /// dimension at that position unless allowzero is set; one -1 takes whatever the element count leaves.
    /// </summary>
    private static void Reshape(NodeContext context)
    {
        var x = context.Shape(0);
        var target = context.Has(1) ? context.Ints(1, "target shape")
            : context.IntsAttribute("shape") ?? throw new ShapeRuleException("has neither a shape input nor a shape attribute");
        var allowZero = context.Node.GetInt("allowzero", 0) != 0;
        var shape = new long[target.Length];
        var inferred = -1;
        for (var i = 0; i < target.Length; i++)
        {
            switch (target[i])
            {
                case 0 when !allowZero:
                    shape[i] = i < x.Length ? x[i] : throw new ShapeRuleException($"target {ShapeMath.Format(target)} copies dimension {i}, which the input {ShapeMath.Format(x)} does not have");
                    break;
                case -1:
                    if (inferred >= 0) throw new ShapeRuleException($"target {ShapeMath.Format(target)} has more than one -1");
                    inferred = i;
                    break;
                case < 0:
                    throw new ShapeRuleException($"target {ShapeMath.Format(target)} has a negative dimension other than -1");
                default:
                    shape[i] = target[i];
                    break;
            }
        }
        var total = ShapeMath.Product(x);
        if (inferred >= 0)
        {
            var known = ShapeMath.Product(shape.Where((_, i) => i != inferred));
            if (known == 0 || total % known != 0)
            {
                throw new ShapeRuleException($"cannot reshape {ShapeMath.Format(x)} ({total} elements) to {ShapeMath.Format(target)}");
            }
            shape[inferred] = total / known;
        }
        else if (ShapeMath.Product(shape) != total)
        {
            throw new ShapeRuleException($"cannot reshape {ShapeMath.Format(x)} ({total} elements) to {ShapeMath.Format(shape)} ({ShapeMath.Product(shape)} elements)");
        }
        context.Output(0, shape, value: context.Constant(0) is { } data ? Folding.Reshaped(data, shape) : null);
    }

    /// <summary>[d0..dn] → [d0*..*d(axis-1), d(axis)*..*dn]; axis in [-rank, rank], default 1.</summary>
    private static void Flatten(NodeContext context)
    {
        var x = context.Shape(0);
        var axis = ShapeMath.SplitPoint(context.Node.GetInt("axis", 1), x.Length);
        long[] shape = [ShapeMath.Product(x[..axis]), ShapeMath.Product(x[axis..])];
        context.Output(0, shape, value: context.Constant(0) is { } data ? Folding.Reshaped(data, shape) : null);
    }

    /// <summary>Output dimension i is input dimension perm[i]; perm defaults to reversing the dimensions.</summary>
    private static void Transpose(NodeContext context)
    {
        var x = context.Shape(0);
        var perm = context.IntsAttribute("perm") ?? Enumerable.Range(0, x.Length).Reverse().Select(i => (long)i).ToArray();
        if (perm.Length != x.Length || perm.Order().Where((p, i) => p != i).Any())
        {
            throw new ShapeRuleException($"perm {ShapeMath.Format(perm)} is not a permutation of the input's {x.Length} dimensions");
        }
        context.Output(0, perm.Select(p => x[p]).ToArray());
    }

    /// <summary>Removes the listed axes (input 1 from opset 13, attribute before), or every dimension of size 1 when none are listed.</summary>
    private static void Squeeze(NodeContext context)
    {
        var x = context.Shape(0);
        var axes = Axes(context);
        long[] shape;
        if (axes is null || axes.Length == 0)
        {
            shape = x.Where(d => d != 1).ToArray();
        }
        else
        {
            var removed = axes.Select(a => ShapeMath.Axis(a, x.Length)).ToHashSet();
            foreach (var a in removed)
            {
                if (x[a] != 1) throw new ShapeRuleException($"cannot squeeze axis {a} of {ShapeMath.Format(x)}: its size is {x[a]}, not 1");
            }
            shape = x.Where((_, i) => !removed.Contains(i)).ToArray();
        }
        context.Output(0, shape, value: context.Constant(0) is { } data ? Folding.Reshaped(data, shape) : null);
    }

    /// <summary>Inserts dimensions of size 1 at the listed axes of the output (input 1 from opset 13, attribute before).</summary>
    private static void Unsqueeze(NodeContext context)
    {
        var x = context.Shape(0);
        var axes = Axes(context) ?? throw new ShapeRuleException("has no axes");
        var rank = x.Length + axes.Length;
        var inserted = axes.Select(a => ShapeMath.Axis(a, rank)).ToHashSet();
        if (inserted.Count != axes.Length)
        {
            throw new ShapeRuleException($"axes {ShapeMath.Format(axes)} repeat an axis");
        }
        var shape = new long[rank];
        for (int i = 0, source = 0; i < rank; i++)
        {
            shape[i] = inserted.Contains(i) ? 1 : x[source++];
        }
        context.Output(0, shape, value: context.Constant(0) is { } data ? Folding.Reshaped(data, shape) : null);
    }

    /// <summary>The input broadcast together with the target shape (bidirectionally, so a 1 in the target keeps the input's size).</summary>
    private static void Expand(NodeContext context)
    {
        var x = context.Shape(0);
        var target = context.Ints(1, "target shape");
        var shape = ShapeMath.Broadcast(x, target)
            ?? throw new ShapeRuleException($"the input {ShapeMath.Format(x)} cannot be expanded to {ShapeMath.Format(target)}");
        var value = context.Constant(0) is { } data && Folding.Fits(shape)
            ? Folding.Pick(data, shape, Folding.BroadcastSources(shape, data.Dims))
            : null;
        context.Output(0, shape, value: value);
    }

    private static long[]? Axes(NodeContext context) => context.Has(1) ? context.Ints(1, "axes") : context.IntsAttribute("axes");
}
