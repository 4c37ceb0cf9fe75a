using Acp.Onnx.Ir;

namespace Acp.Onnx.Analysis;

/// <summary>
/// Helpers for constant folding of the small integer and float tensors that shape computations produce. Folded
/// values are float32 tensors (float, double and float16 alike) or int64 tensors (every integer type and bool as
/// 0/1); <see cref="ShapeInferenceResult.ElementTypes"/> holds the value's real element type.
/// </summary>
internal static class Folding
{
    /// <summary>Largest tensor folded. Shape chains need a handful of elements; anything bigger is model data.</summary>
    public const long MaxElements = 1024;

    /// <summary>True when a tensor of this shape is small enough to fold.</summary>
    public static bool Fits(long[] shape) => OnnxTensor.CountElements(shape) is { } n && n <= MaxElements;

    /// <summary>True when the tensor is float or integer data, the kinds folding works on.</summary>
    public static bool IsNumeric(OnnxTensor tensor) => tensor.IsFloat || tensor.IsInteger;

    /// <summary>An int64 tensor.</summary>
    public static OnnxTensor Ints(long[] dims, long[] data) => OnnxTensor.FromInt64s("", dims, data);

    /// <summary>A float32 tensor.</summary>
    public static OnnxTensor Floats(long[] dims, float[] data) => OnnxTensor.FromFloats("", dims, data);

    /// <summary>The same elements under another shape (Reshape, Flatten, Squeeze, Unsqueeze).</summary>
    public static OnnxTensor Reshaped(OnnxTensor tensor, long[] dims) =>
        tensor.IsFloat ? Floats(dims, tensor.Floats) : Ints(dims, tensor.Int64s);

    /// <summary>A tensor of shape <paramref name="dims"/> whose element i is element <c>sources[i]</c> of <paramref name="tensor"/>.</summary>
    public static OnnxTensor Pick(OnnxTensor tensor, long[] dims, int[] sources) =>
        tensor.IsFloat
            ? Floats(dims, Array.ConvertAll(sources, i => tensor.Floats[i]))
            : Ints(dims, Array.ConvertAll(sources, i => tensor.Int64s[i]));

    /// <summary>
    /// For every element of an output of shape <paramref name="output"/>, the index of the input element it reads when
    /// output index <c>o</c> along axis d reads input index <c>start[d] + o * step[d]</c>. Input and output have equal rank.
    /// </summary>
    public static int[] StridedSources(long[] output, long[] input, long[] start, long[] step)
    {
        var strides = RowMajorStrides(input);
        var count = (int)ShapeMath.Product(output);
        var sources = new int[count];
        for (var i = 0; i < count; i++)
        {
            long rest = i, source = 0;
            for (var d = output.Length - 1; d >= 0; d--)
            {
                var o = rest % output[d];
                rest /= output[d];
                source += (start[d] + o * step[d]) * strides[d];
            }
            sources[i] = (int)source;
        }
        return sources;
    }

    /// <summary>For every element of a broadcast result of shape <paramref name="output"/>, the element of <paramref name="input"/> it reads.</summary>
    public static int[] BroadcastSources(long[] output, long[] input)
    {
        var aligned = Enumerable.Repeat(1L, output.Length - input.Length).Concat(input).ToArray();
        var step = aligned.Select(d => d == 1 ? 0L : 1L).ToArray();
        return StridedSources(output, aligned, new long[output.Length], step);
    }

    /// <summary>Row-major element strides of a shape.</summary>
    private static long[] RowMajorStrides(long[] shape)
    {
        var strides = new long[shape.Length];
        long stride = 1;
        for (var d = shape.Length - 1; d >= 0; d--)
        {
            strides[d] = stride;
            stride *= shape[d];
        }
        return strides;
    }
}
