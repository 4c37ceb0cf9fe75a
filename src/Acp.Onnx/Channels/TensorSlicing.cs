using System.Runtime.InteropServices;
using Acp.Onnx.Ir;

namespace Acp.Onnx.Channels;

/// <summary>Slicing constants along one axis, and comparing their contents.</summary>
internal static class TensorSlicing
{
    /// <summary>A float tensor holding only positions <paramref name="kept"/> (ascending) of axis <paramref name="axis"/>.</summary>
    public static OnnxTensor Slice(OnnxTensor tensor, int axis, int[] kept)
    {
        var dims = tensor.Dims;
        var outer = 1L;
        for (var i = 0; i < axis; i++) outer *= dims[i];
        var inner = 1L;
        for (var i = axis + 1; i < dims.Length; i++) inner *= dims[i];
        var source = tensor.Floats;
        var result = new float[outer * kept.Length * inner];
        var target = 0L;
        for (var o = 0L; o < outer; o++)
        {
            foreach (var k in kept)
            {
                Array.Copy(source, (o * dims[axis] + k) * inner, result, target, inner);
                target += inner;
            }
        }
        var newDims = (long[])dims.Clone();
        newDims[axis] = kept.Length;
        return OnnxTensor.FromFloats(tensor.Name, newDims, result);
    }

    /// <summary>True when both tensors have the same type, shape and bits.</summary>
    public static bool SameContents(OnnxTensor a, OnnxTensor b)
    {
        if (a.ElementType != b.ElementType || !a.Dims.SequenceEqual(b.Dims)) return false;
        if (a.IsFloat && b.IsFloat) return MemoryMarshal.AsBytes(a.Floats.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(b.Floats.AsSpan()));
        if (a.IsInteger && b.IsInteger) return a.Int64s.AsSpan().SequenceEqual(b.Int64s);
        return false;
    }
}
