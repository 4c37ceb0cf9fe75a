using System.Diagnostics;

namespace Acp.Onnx.Runtime;

/// <summary>Median ONNX Runtime latency of a model on random input, after warm-up runs.</summary>
public static class LatencyMeter
{
    /// <summary>
    /// Runs the model <paramref name="warmup"/> times untimed and <paramref name="runs"/> times timed, with symbolic
    /// dimensions set to <paramref name="batch"/>, and returns the median wall time of one run in milliseconds.
    /// </summary>
    public static double MedianMilliseconds(byte[] model, int batch = 1, int threads = 1, int warmup = 5, int runs = 30)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(runs, 1);
        using var session = InferenceSession.FromBytes(model, new SessionConfig { IntraOpThreads = threads, InterOpThreads = 1 });
        var random = new Random(0);
        var inputs = new Dictionary<string, OrtTensor>();
        foreach (var input in session.InputMetadata)
        {
            var shape = input.Dimensions.Select(d => d < 0 ? batch : d).ToArray();
            var data = new float[InputElements(input.Name, shape)];
            for (var i = 0; i < data.Length; i++) data[i] = (float)(random.NextDouble() * 2 - 1);
            inputs[input.Name] = OrtTensor.FromFloat(data, shape);
        }
        for (var i = 0; i < warmup; i++) session.Run(inputs);
        var times = new double[runs];
        for (var i = 0; i < runs; i++)
        {
            var started = Stopwatch.GetTimestamp();
            session.Run(inputs);
            times[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        }
        Array.Sort(times);
        return times[runs / 2];
    }

    /// <summary>The largest input the measurement fills with random values: 2^28 floats, 1 GiB.</summary>
    public const long MaxInputElements = 1L << 28;

    private static long InputElements(string name, long[] shape) =>
        Ir.OnnxTensor.CountElements(shape) is { } count && count <= MaxInputElements
            ? count
            : throw new ArgumentException($"Input '{name}' of shape [{string.Join(",", shape)}] is too large to time: the latency measurement fills inputs of at most {MaxInputElements} elements.");
}
