using Acp.Onnx.Ir;
using static TorchSharp.torch;

namespace Acp.TorchSharp;

/// <summary>Copies between .NET float arrays (Acp's tensors, batches) and TorchSharp tensors.</summary>
/// <remarks>
/// Always copies: <c>torch.tensor(float[], …)</c> wraps the managed array without taking ownership, so LibTorch would
/// share (and BatchNormalization would write into) the caller's memory.
/// </remarks>
public static class TorchTensors
{
    /// <summary>A new float32 tensor on <paramref name="device"/> (default: CPU) holding a copy of <paramref name="data"/>.</summary>
    /// <exception cref="ArgumentException">The data's length does not match the shape.</exception>
    public static Tensor FromFloats(ReadOnlySpan<float> data, long[] shape, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(shape);
        var count = shape.Aggregate(1L, (a, b) => a * b);
        if (count != data.Length) throw new ArgumentException($"Shape [{string.Join(",", shape)}] needs {count} elements; {data.Length} given.", nameof(data));
        var result = empty(shape, ScalarType.Float32, CPU);
        result.data<float>().CopyFrom(data);
        if (device is null || device.type == global::TorchSharp.DeviceType.CPU) return result;
        using (result) return result.to(device);
    }

    /// <summary>The tensor's elements as a new array (moved to the CPU and made contiguous first).</summary>
    public static float[] ToFloats(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        using var cpu = tensor.detach().to(CPU).contiguous();
        return cpu.data<float>().ToArray();
    }

    internal static Tensor FromOnnx(OnnxTensor source, string name)
    {
        var data = source.Floats;
        var bad = Array.FindIndex(data, v => !float.IsFinite(v));
        if (bad >= 0) throw new TorchBackendException($"Initializer '{name}' holds {data[bad]} at element {bad}.");
        return FromFloats(data, source.Dims);
    }
}
