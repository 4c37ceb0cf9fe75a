using Acp.Onnx.Analysis;
using Acp.Onnx.Ir;
using Microsoft.ML.OnnxRuntime;
using Acp.Onnx.Tests.Support;

namespace Acp.Onnx.Tests.Oracles;

/// <summary>
/// ONNX Runtime is the oracle: a model Acp loaded and saved must run exactly like the file PyTorch wrote, and the
/// shapes Acp infers must be the shapes ORT produces.
/// </summary>
public sealed class OrtRoundTripTests
{
    public static TheoryData<string> RunnableFixtures => new(
        Fixtures.TorchvisionFiles.Concat(Fixtures.EdgeFiles.Where(f => !f.Contains(".noort.", StringComparison.Ordinal))).Append("tiny_cnn.onnx").Append("tiny_mlp.onnx"));

    [Theory]
    [MemberData(nameof(RunnableFixtures))]
    public void Saved_model_gives_bitwise_equal_outputs_in_onnx_runtime(string file)
    {
        var path = Fixtures.PathOf(file);
        var saved = OnnxModel.Load(path).ToBytes();

        using var original = OrtRun.Session(path, threads: 2);
        using var roundTripped = OrtRun.Session(saved, threads: 2);
        var inputs = RandomInputs(original, batch: 2, seed: file.Length);

        var expected = original.RunFloat(inputs);
        var actual = roundTripped.RunFloat(inputs);

        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i].Name, actual[i].Name);
            Assert.Equal(expected[i].Shape, actual[i].Shape);
            Assert.True(expected[i].Data.SequenceEqual(actual[i].Data), $"{file}: output '{expected[i].Name}' differs after a round trip");
        }
    }

    [Theory]
    [MemberData(nameof(Fixtures.TorchvisionData), MemberType = typeof(Fixtures))]
    public void Onnx_runtime_reproduces_pytorch_outputs(string file)
    {
        var stem = file[..^".onnx".Length];
        var input = Fixtures.ReadFloats(stem + ".input.f32");
        var expected = Fixtures.ReadFloats(stem + ".expected.f32");
        using var session = OrtRun.Session(Fixtures.PathOf(file));

        var output = session.First("input", input, 1, 3, 64, 64).Data;

        var scale = expected.Max(MathF.Abs);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(MathF.Abs(output[i] - expected[i]) <= 1e-4f * Math.Max(1f, scale), $"{file}[{i}]: ORT {output[i]} vs PyTorch {expected[i]}");
        }
    }

    [Theory]
    [MemberData(nameof(RunnableFixtures))]
    public void Inferred_shapes_of_every_value_match_onnx_runtime(string file)
    {
        const int batch = 3;
        var model = OnnxModel.Load(Fixtures.PathOf(file));
        var shapes = ShapeInference.Run(model, symbolicDimValue: batch);
        Assert.Empty(shapes.Diagnostics);

        // Expose every float intermediate as a graph output so ORT reports its shape.
        var probe = model.Clone();
        var declared = probe.Graph.Outputs.Select(o => o.Name).ToHashSet();
        var intermediates = probe.Graph.Nodes.SelectMany(n => n.Outputs)
            .Where(v => v.Length > 0 && !declared.Contains(v) && shapes.ElementTypes.GetValueOrDefault(v) == ElementType.Float)
            .ToList();
        probe.Graph.Outputs.AddRange(intermediates.Select(v => new ValueInfo(v, ElementType.Float, null)));
        using var session = OrtRun.Session(probe.ToBytes());

        var outputs = session.RunFloat(RandomInputs(session, batch, seed: 7));

        Assert.Equal(probe.Graph.Outputs.Count, outputs.Length);
        foreach (var output in outputs)
        {
            var inferred = shapes.ShapeOf(output.Name);
            Assert.True(inferred is not null, $"{file}: no shape inferred for '{output.Name}'");
            Assert.True(output.Shape.SequenceEqual(inferred), $"{file}: '{output.Name}' is [{string.Join(",", output.Shape)}] in ORT, inferred [{string.Join(",", inferred)}]");
        }
    }

    private static (string Name, float[] Data, long[] Shape)[] RandomInputs(InferenceSession session, int batch, int seed)
    {
        var random = new Random(seed);
        var inputs = new List<(string, float[], long[])>();
        foreach (var (name, input) in session.InputMetadata)
        {
            var shape = input.Dimensions.Select(d => d < 0 ? batch : (long)d).ToArray();
            var data = new float[shape.Aggregate(1L, (a, b) => a * b)];
            for (var i = 0; i < data.Length; i++) data[i] = (float)(random.NextDouble() * 2 - 1);
            inputs.Add((name, data, shape));
        }
        return [.. inputs];
    }
}
