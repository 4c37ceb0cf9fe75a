using Acp.Engine.Execution;
using Acp.Onnx.Ir;
using Acp.Onnx.Tests.Support;

namespace Acp.Engine.Tests.Networks;

/// <summary>ONNX Runtime is the oracle for the engine's forward pass on real networks and the edge-case graphs.</summary>
public sealed class OrtForwardTests
{
    public static TheoryData<string> Models => new(
        Fixtures.TorchvisionFiles.Concat(Fixtures.EdgeFiles.Where(f => !f.Contains(".noort.", StringComparison.Ordinal))).Append("tiny_cnn.onnx").Append("tiny_mlp.onnx"));

    [Theory]
    [MemberData(nameof(Models))]
    public void Engine_matches_onnx_runtime(string file)
    {
        var path = Fixtures.PathOf(file);
        var model = OnnxModel.Load(path);
        var network = Network.Build(model);
        using var session = OrtRun.Session(path);
        var (name, declared) = session.InputMetadata.First();
        var shape = declared.Dimensions.Select(d => d < 0 ? 2 : (int)d).ToArray();
        var random = new Random(file.Length);
        var input = new float[shape.Aggregate(1, (a, b) => a * b)];
        for (var i = 0; i < input.Length; i++) input[i] = (float)(random.NextDouble() * 2 - 1);

        var expected = session.First(name, input, shape.Select(d => (long)d).ToArray());
        var actual = network.Forward(shape, input);

        Assert.Equal(expected.Shape.Select(d => (int)d), actual.Shape);
        Numerics.AssertClose(expected.Data, actual.Data, 1e-4, file);
    }
}
