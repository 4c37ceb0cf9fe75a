using Acp.Onnx.Ir;

namespace Acp.Engine.Execution.Layers;

/// <summary>The explicit pads [top, left, bottom, right] of a 2-D Conv or pool, from its pads or auto_pad attribute.</summary>
internal static class AutoPad
{
    /// <param name="node">The Conv or pooling node.</param>
    /// <param name="input">Input shape (NCHW).</param>
    /// <param name="output">Output shape (NCHW) as shape inference found it; SAME padding is what makes it so.</param>
    /// <param name="kernel">Kernel height and width.</param>
    /// <param name="strides">Strides.</param>
    /// <param name="dilations">Dilations.</param>
    public static int[] Resolve(Node node, int[] input, int[] output, long[] kernel, long[] strides, long[] dilations)
    {
        var autoPad = node.GetString("auto_pad", "NOTSET");
        if (autoPad is "VALID") return [0, 0, 0, 0];
        if (autoPad is not ("SAME_UPPER" or "SAME_LOWER"))
        {
            var p = node.GetInts("pads") ?? [0, 0, 0, 0];
            return [(int)p[0], (int)p[1], (int)p[2], (int)p[3]];
        }
        var pads = new int[4];
        for (var axis = 0; axis < 2; axis++)
        {
            var extent = (int)dilations[axis] * ((int)kernel[axis] - 1) + 1;
            var total = Math.Max(0, (output[2 + axis] - 1) * (int)strides[axis] + extent - input[2 + axis]);
            var small = total / 2;
            // SAME_UPPER puts the odd pixel at the end, SAME_LOWER at the beginning.
            (pads[axis], pads[axis + 2]) = autoPad is "SAME_LOWER" ? (total - small, small) : (small, total - small);
        }
        return pads;
    }
}
