using Acp.Onnx.Analysis;
using Acp.Onnx.Ir;
using Acp.Onnx.Runtime;
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

        using var original = InferenceSession.FromFile(path, new SessionConfig { IntraOpThreads = 2 });
        using var roundTripped = InferenceSession.FromBytes(saved, new SessionConfig { IntraOpThreads = 2 });
        var inputs = RandomInputs(original, batch: 2, seed: file.Length);

        var expected = original.Run(inputs);
        var actual = roundTripped.Run(inputs);

        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Name, actual[i].Name);
            Assert.Equal(expected[i].Tensor.Shape, actual[i].Tensor.Shape);
            Assert.True(expected[i].Tensor.FloatData.Span.SequenceEqual(actual[i].Tensor.FloatData.Span), $"{file}: output '{expected[i].Name}' differs after a round trip");
        }
    }

    [Theory]
    [MemberData(nameof(Fixtures.TorchvisionData), MemberType = typeof(Fixtures))]
    public void Onnx_runtime_reproduces_pytorch_outputs(string file)
    {
        var stem = file[..^".onnx".Length];
        var input = Fixtures.ReadFloats(stem + ".input.f32");
        var expected = Fixtures.ReadFloats(stem + ".expected.f32");
        using var session = InferenceSession.FromFile(Fixtures.PathOf(file));

        var output = session.Run(new Dictionary<string, OrtTensor> { ["input"] = OrtTensor.FromFloat(input, 1, 3, 64, 64) })[0].Tensor.FloatData.Span;

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
        using var session = InferenceSession.FromBytes(probe.ToBytes());

        var outputs = session.Run(RandomInputs(session, batch, seed: 7));

        Assert.Equal(probe.Graph.Outputs.Count, outputs.Count);
        foreach (var output in outputs)
        {
            var inferred = shapes.ShapeOf(output.Name);
            Assert.True(inferred is not null, $"{file}: no shape inferred for '{output.Name}'");
            Assert.True(output.Tensor.Shape.SequenceEqual(inferred), $"{file}: '{output.Name}' is [{string.Join(",", output.Tensor.Shape)}] in ORT, inferred [{string.Join(",", inferred)}]");
        }
    }

    private static Dictionary<string, OrtTensor> RandomInputs(InferenceSession session, int batch, int seed)
    {
        var random = new Random(seed);
        var inputs = new Dictionary<string, OrtTensor>();
        foreach (var input in session.InputMetadata)
        {
            var shape = input.Dimensions.Select(d => d < 0 ? batch : d).ToArray();
            var data = new float[shape.Aggregate(1L, (a, b) => a * b)];
            for (var i = 0; i < data.Length; i++) data[i] = (float)(random.NextDouble() * 2 - 1);
            inputs[input.Name] = OrtTensor.FromFloat(data, shape);
        }
        return inputs;
    }
}
