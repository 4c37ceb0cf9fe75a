using System.Diagnostics;
using Acp.Onnx.Ir;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Acp.Onnx.Runtime;

/// <summary>Median ONNX Runtime latency of a model on random input, after warm-up runs.</summary>
public static class LatencyMeter
{
    /// <summary>
    /// Runs the model <paramref name="warmup"/> times untimed and <paramref name="runs"/> times timed on
    /// <paramref name="device"/> (default: the CPU), with symbolic dimensions set to <paramref name="batch"/> and
    /// <paramref name="threads"/> intra-op threads (0: the runtime chooses), and returns the median wall time of one run in milliseconds.
    /// </summary>
    /// <exception cref="ArgumentException">An input is not float32, or its shape holds more elements than an array can.</exception>
    /// <exception cref="ComputeDeviceUnavailableException">The device's execution provider is missing.</exception>
    /// <exception cref="OnnxRuntimeException">The runtime refused or failed to run the model.</exception>
    public static double MedianMilliseconds(byte[] model, int batch = 1, int threads = 1, int warmup = 5, int runs = 30, ComputeDevice device = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(threads);
        ArgumentOutOfRangeException.ThrowIfNegative(warmup);
        ArgumentOutOfRangeException.ThrowIfLessThan(runs, 1);
        var settings = new OrtSessionSettings { Device = device, IntraOpThreads = threads, InterOpThreads = 1 };
        using var session = settings.CreateSession(model);
        // Shapes as the file declares them: the runtime's metadata reports dimensions as 32-bit ints.
        var declared = OnnxModel.FromBytes(model).Graph.RuntimeInputs.ToDictionary(i => i.Name, i => i.Shape);
        var random = new Random(0);
        var names = new List<string>();
        var values = new List<OrtValue>();
        try
        {
            foreach (var (name, input) in session.InputMetadata)
            {
                if (!input.IsTensor || input.ElementDataType != TensorElementType.Float)
                {
                    throw new ArgumentException($"Input '{name}' does not take float32 tensors; latency is measured on float32 inputs only.", nameof(model));
                }
                var shape = declared.GetValueOrDefault(name) is { } dims
                    ? dims.Select(d => d.Value is { } v && v >= 0 ? v : batch).ToArray()
                    : input.Dimensions.Select(d => d < 0 ? batch : (long)d).ToArray();
                var data = new float[ElementCount(name, shape)];
                for (var i = 0; i < data.Length; i++) data[i] = (float)(random.NextDouble() * 2 - 1);
                names.Add(name);
                values.Add(OrtValue.CreateTensorValueFromMemory(data, shape));
            }

            using var runOptions = new RunOptions();
            var outputs = session.OutputNames;
            for (var i = 0; i < warmup; i++)
            {
                using var _ = session.Run(runOptions, names, values, outputs);
            }
            var times = new double[runs];
            for (var i = 0; i < runs; i++)
            {
                var started = Stopwatch.GetTimestamp();
                using (session.Run(runOptions, names, values, outputs))
                {
                    times[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                }
            }
            Array.Sort(times);
            return times[runs / 2];
        }
        finally
        {
            foreach (var value in values) value.Dispose();
        }
    }

    private static int ElementCount(string name, long[] shape)
    {
        long count = 1;
        foreach (var d in shape)
        {
            count = d <= Array.MaxLength ? count * d : long.MaxValue;
            if (count > Array.MaxLength) throw new ArgumentException($"Input '{name}' of shape [{string.Join(",", shape)}] has more elements than a latency measurement can hold.", nameof(shape));
        }
        return (int)count;
    }
}
