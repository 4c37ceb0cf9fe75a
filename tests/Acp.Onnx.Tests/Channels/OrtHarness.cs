using Acp.Onnx.Ir;
using Acp.Onnx.Tests.Support;

namespace Acp.Onnx.Tests.Channels;

/// <summary>Runs IR models in ONNX Runtime on seeded random inputs.</summary>
public static class OrtHarness
{
    /// <summary>The declared input shape with symbolic dimensions (the batch) set to <paramref name="batch"/>.</summary>
    public static long[] InputShape(OnnxModel model, long batch) =>
        model.Graph.RuntimeInputs.First().Shape!.Select(d => d.Value ?? batch).ToArray();

    /// <summary>Uniform values in [-1, 1) for <paramref name="shape"/>.</summary>
    public static float[] RandomInput(long[] shape, int seed)
    {
        var random = new Random(seed);
        var data = new float[shape.Aggregate(1L, (a, b) => a * b)];
        for (var i = 0; i < data.Length; i++) data[i] = (float)(random.NextDouble() * 2 - 1);
        return data;
    }

    /// <summary>The first output of <paramref name="model"/> for <paramref name="input"/>, after a save to bytes.</summary>
    public static (float[] Data, long[] Shape) Run(OnnxModel model, float[] input, long[] shape)
    {
        using var session = OrtRun.Session(model.ToBytes(), threads: 2);
        var output = session.First(model.Graph.RuntimeInputs.First().Name, input, shape);
        return (output.Data, output.Shape);
    }

    /// <summary>|actual − expected| ≤ tolerance · max(1, max|expected|) element-wise.</summary>
    public static void AssertClose(float[] expected, float[] actual, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        var scale = Math.Max(1, expected.Max(v => Math.Abs((double)v)));
        var worst = 0.0;
        var at = 0;
        for (var i = 0; i < expected.Length; i++)
        {
            var error = Math.Abs((double)actual[i] - expected[i]);
            if (!(error <= worst)) (worst, at) = (error, i);
        }
        Assert.True(worst <= tolerance * scale, $"{what}: element {at} is {actual[at]}, expected {expected[at]} (error {worst:g3}, allowed {tolerance * scale:g3})");
    }

    /// <summary>
    /// The first output's shape when ONNX Runtime loads <paramref name="model"/> and runs it on
    /// <paramref name="input"/>, or the runtime's refusal as text: for fuzzing, where the question is whether the
    /// runtime accepts a model at all.
    /// </summary>
    public static (long[]? Shape, string? Refusal) TryRun(OnnxModel model, float[] input, long[] shape)
    {
        try
        {
            return (Run(model, input, shape).Shape, null);
        }
        catch (Microsoft.ML.OnnxRuntime.OnnxRuntimeException e)
        {
            return (null, e.Message);
        }
    }
}
