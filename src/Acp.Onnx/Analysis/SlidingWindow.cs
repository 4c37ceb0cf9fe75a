namespace Acp.Onnx.Analysis;

/// <summary>Output sizes of sliding-window operators (Conv, MaxPool, AveragePool, LpPool).</summary>
internal static class SlidingWindow
{
    /// <summary>
    /// The spatial output sizes for the node's strides, dilations, pads and auto_pad. With ceil_mode a window may
    /// start in the end padding of the ONNX formula; like PyTorch (and onnxruntime since 1.17), such a last window
    /// is dropped when it would start past the input and its begin padding.
    /// </summary>
    public static long[] OutputSizes(NodeContext context, long[] input, long[] kernel, bool ceilMode)
    {
        var rank = kernel.Length;
        if (input.Length != rank)
        {
            throw new ShapeRuleException($"the kernel {ShapeMath.Format(kernel)} has {rank} spatial dimensions but the input has {input.Length}");
        }
        var strides = context.IntsAttribute("strides", rank, 1);
        var dilations = context.IntsAttribute("dilations", rank, 1);
        var pads = context.IntsAttribute("pads", 2 * rank, 0);
        if (strides.Any(s => s < 1) || dilations.Any(d => d < 1) || kernel.Any(k => k < 1))
        {
            throw new ShapeRuleException($"kernel {ShapeMath.Format(kernel)}, strides {ShapeMath.Format(strides)} and dilations {ShapeMath.Format(dilations)} must be positive");
        }
        var autoPad = context.Node.GetString("auto_pad", "NOTSET");
        var output = new long[rank];
        for (var i = 0; i < rank; i++)
        {
            var extent = (kernel[i] - 1) * dilations[i] + 1;
            output[i] = autoPad switch
            {
                "SAME_UPPER" or "SAME_LOWER" => ShapeMath.CeilDiv(input[i], strides[i]),
                "VALID" => Explicit(input[i], 0, 0, extent, strides[i], ceilMode, i),
                "NOTSET" or "" => Explicit(input[i], pads[i], pads[i + rank], extent, strides[i], ceilMode, i),
                _ => throw new ShapeRuleException($"auto_pad '{autoPad}' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID"),
            };
        }
        return output;
    }

    private static long Explicit(long input, long padBegin, long padEnd, long extent, long stride, bool ceilMode, int axis)
    {
        var span = input + padBegin + padEnd - extent;
        if (span < 0)
        {
            throw new ShapeRuleException($"the window of extent {extent} does not fit spatial axis {axis} of size {input} padded by {padBegin}+{padEnd}");
        }
        if (!ceilMode) return span / stride + 1;
        var count = ShapeMath.CeilDiv(span, stride) + 1;
        return (count - 1) * stride >= input + padBegin ? count - 1 : count;
    }
}
