namespace Acp.Onnx.Analysis;

/// <summary>Shape rules of Resize and Upsample, best effort: the scales or sizes must fold to constants.</summary>
internal static class ResizeRules
{
    public static void Register(Dictionary<string, Action<NodeContext>> rules)
    {
        rules["Resize"] = Resize;
        rules["Upsample"] = Upsample;
    }

    /// <summary>
    /// Opset 10 takes (X, scales); opset 11+ takes (X, roi, scales, sizes) with exactly one of scales and sizes
    /// non-empty, over every axis or the axes attribute (opset 18). Each output dimension is floor(dim × scale) or the size.
    /// keep_aspect_ratio_policy is not applied.
    /// </summary>
    private static void Resize(NodeContext context)
    {
        var x = context.Shape(0);
        var axes = context.IntsAttribute("axes")?.Select(a => ShapeMath.Axis(a, x.Length)).ToArray()
            ?? Enumerable.Range(0, x.Length).ToArray();
        var scalesInput = context.Opset <= 10 ? 1 : 2;
        long[] shape;
        if (context.Opset > 10 && context.Has(3) && context.Shape(3) is [> 0])
        {
            var sizes = context.Ints(3, "sizes");
            CheckCount(sizes.Length, axes.Length, "sizes");
            shape = (long[])x.Clone();
            for (var i = 0; i < axes.Length; i++) shape[axes[i]] = sizes[i];
        }
        else if (context.Has(scalesInput))
        {
            shape = Scaled(x, axes, context.Floats(scalesInput, "scales"));
        }
        else
        {
            throw new ShapeRuleException("has neither scales nor sizes");
        }
        context.Output(0, shape);
    }

    /// <summary>Scales from input 1 (opset 9) or the scales attribute (opset 7); each output dimension is floor(dim × scale).</summary>
    private static void Upsample(NodeContext context)
    {
        var x = context.Shape(0);
        var scales = context.Has(1) ? context.Floats(1, "scales")
            : context.Node.Attribute("scales")?.Floats ?? throw new ShapeRuleException("has no scales");
        context.Output(0, Scaled(x, Enumerable.Range(0, x.Length).ToArray(), scales));
    }

    private static long[] Scaled(long[] x, int[] axes, float[] scales)
    {
        CheckCount(scales.Length, axes.Length, "scales");
        var shape = (long[])x.Clone();
        for (var i = 0; i < axes.Length; i++)
        {
            if (!(scales[i] > 0)) throw new ShapeRuleException($"scales [{string.Join(",", scales)}] must be positive");
            shape[axes[i]] = (long)Math.Floor(x[axes[i]] * (double)scales[i]);
        }
        return shape;
    }

    private static void CheckCount(int count, int axes, string what)
    {
        if (count != axes) throw new ShapeRuleException($"{what} has {count} values for {axes} axes");
    }
}
