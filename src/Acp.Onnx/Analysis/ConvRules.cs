namespace Acp.Onnx.Analysis;

/// <summary>Shape rules of Conv and ConvTranspose.</summary>
internal static class ConvRules
{
    public static void Register(Dictionary<string, Action<NodeContext>> rules)
    {
        rules["Conv"] = Conv;
        rules["ConvTranspose"] = ConvTranspose;
    }

    /// <summary>X [N,C,D...], W [M,C/group,K...], B [M] → [N,M,D'...].</summary>
    private static void Conv(NodeContext context)
    {
        var (x, w, group) = Operands(context);
        if (x[1] != w[1] * group)
        {
            throw new ShapeRuleException($"the input has {x[1]} channels but the weight {ShapeMath.Format(w)} with group {group} expects {w[1] * group} ({w[1]} per group)");
        }
        if (w[0] % group != 0)
        {
            throw new ShapeRuleException($"the weight {ShapeMath.Format(w)} has {w[0]} output channels, not divisible by group {group}");
        }
        CheckBias(context, w[0]);
        var spatial = SlidingWindow.OutputSizes(context, x[2..], Kernel(context, w), ceilMode: false);
        context.Output(0, [x[0], w[0], .. spatial]);
    }

    /// <summary>X [N,C,D...], W [C,M/group,K...], B [M] → [N,M,D'...], D' from output_shape or the transposed-convolution formula.</summary>
    private static void ConvTranspose(NodeContext context)
    {
        var (x, w, group) = Operands(context);
        if (x[1] != w[0])
        {
            throw new ShapeRuleException($"the input has {x[1]} channels but the weight {ShapeMath.Format(w)} expects {w[0]}");
        }
        if (w[0] % group != 0)
        {
            throw new ShapeRuleException($"the weight {ShapeMath.Format(w)} has {w[0]} input channels, not divisible by group {group}");
        }
        var channels = w[1] * group;
        CheckBias(context, channels);
        var kernel = Kernel(context, w);
        var rank = kernel.Length;
        var input = x[2..];
        long[] spatial;
        if (context.IntsAttribute("output_shape") is { } requested)
        {
            // Exporters write either the spatial sizes or the full N,C,spatial shape.
            spatial = requested.Length == rank ? requested
                : requested.Length == rank + 2 ? requested[2..]
                : throw new ShapeRuleException($"output_shape {ShapeMath.Format(requested)} does not have {rank} spatial dimensions");
        }
        else
        {
            var strides = context.IntsAttribute("strides", rank, 1);
            var dilations = context.IntsAttribute("dilations", rank, 1);
            var outputPadding = context.IntsAttribute("output_padding", rank, 0);
            var autoPad = context.Node.GetString("auto_pad", "NOTSET");
            var pads = autoPad == "VALID" ? new long[2 * rank] : context.IntsAttribute("pads", 2 * rank, 0);
            spatial = new long[rank];
            for (var i = 0; i < rank; i++)
            {
                spatial[i] = autoPad is "SAME_UPPER" or "SAME_LOWER"
                    ? input[i] * strides[i]
                    : strides[i] * (input[i] - 1) + outputPadding[i] + (kernel[i] - 1) * dilations[i] + 1 - pads[i] - pads[i + rank];
                if (spatial[i] < 1)
                {
                    throw new ShapeRuleException($"spatial axis {i} of size {input[i]} gives output size {spatial[i]}");
                }
            }
        }
        context.Output(0, [x[0], channels, .. spatial]);
    }

    private static (long[] X, long[] W, long Group) Operands(NodeContext context)
    {
        var x = context.Shape(0);
        var w = context.Shape(1);
        if (x.Length < 3)
        {
            throw new ShapeRuleException($"the input {ShapeMath.Format(x)} has rank {x.Length}; [N,C,spatial...] expected");
        }
        if (w.Length != x.Length)
        {
            throw new ShapeRuleException($"the weight {ShapeMath.Format(w)} has rank {w.Length} but the input {ShapeMath.Format(x)} has rank {x.Length}");
        }
        var group = context.Node.GetInt("group", 1);
        if (group < 1) throw new ShapeRuleException($"group {group} must be positive");
        return (x, w, group);
    }

    private static long[] Kernel(NodeContext context, long[] w)
    {
        var fromWeight = w[2..];
        var declared = context.IntsAttribute("kernel_shape");
        if (declared is not null && !declared.SequenceEqual(fromWeight))
        {
            throw new ShapeRuleException($"kernel_shape {ShapeMath.Format(declared)} differs from the weight's spatial dimensions {ShapeMath.Format(fromWeight)}");
        }
        return fromWeight;
    }

    private static void CheckBias(NodeContext context, long channels)
    {
        if (!context.Has(2)) return;
        var b = context.Shape(2);
        if (b.Length != 1 || b[0] != channels)
        {
            throw new ShapeRuleException($"the bias has shape {ShapeMath.Format(b)} but there are {channels} output channels");
        }
    }
}
