using Acp.Engine.Execution;
using Acp.Engine.Tests.Networks;
using Acp.Onnx.Ir;
using Acp.Onnx.Tests.Support;
using Microsoft.ML.OnnxRuntime;
using OrtFloats = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>;
using static TorchSharp.torch;

namespace Acp.TorchSharp.Tests;

/// <summary>
/// Forward outputs of imported modules against three oracles: PyTorch's own outputs stored with the torchvision
/// exports, ONNX Runtime (the NuGet package), and Acp's engine.
/// </summary>
public sealed class ForwardTests
{
    public static TheoryData<string> TorchvisionModels => Fixtures.TorchvisionData;

    public static TheoryData<string> SmallModels => new(
        Fixtures.EdgeFiles.Where(f => !f.Contains(".noort.", StringComparison.Ordinal)).Append("tiny_cnn.onnx").Append("tiny_mlp.onnx"));

    [Theory]
    [MemberData(nameof(TorchvisionModels))]
    public void Torchvision_exports_match_pytorch(string file)
    {
        var manifest = Fixtures.Manifest(file);
        var shape = manifest.GetProperty("input_shape").EnumerateArray().Select(d => d.GetInt64()).ToArray();
        var input = Fixtures.ReadFloats(manifest.GetProperty("input_file").GetString()!);
        var expected = Fixtures.ReadFloats(manifest.GetProperty("expected_file").GetString()!);

        using var module = OnnxModule.Import(OnnxModel.Load(Fixtures.PathOf(file)));
        module.eval();
        using var scope = NewDisposeScope();
        var output = module.forward(TorchTensors.FromFloats(input, shape));
        Numerics.AssertClose(expected, Floats(output), 1e-4, file);
    }

    [Theory]
    [MemberData(nameof(SmallModels))]
    public void Small_models_match_onnx_runtime_and_the_engine(string file)
    {
        var path = Fixtures.PathOf(file);
        AssertMatchesOracles(path, file, batch: 2);
    }

    [Fact]
    public void The_shipped_model_matches_onnx_runtime_and_the_engine()
    {
        AssertMatchesOracles(ShippedModelPath, "fashion_resnet20.onnx", batch: 4);
    }

    [Theory]
    [InlineData("resnet18.bn.onnx")]
    [InlineData("mobilenet_v2.bn.onnx")]
    public void Torchvision_exports_match_onnx_runtime_at_batch_two(string file)
    {
        var path = Fixtures.PathOf(file);
        var model = OnnxModel.Load(path);
        var shape = Shape(model, 2);
        var input = RandomInput(shape, file.Length);
        using var module = OnnxModule.Import(model);
        module.eval();
        using var scope = NewDisposeScope();
        Numerics.AssertClose(RunOrt(path, model, shape, input), Floats(module.forward(TorchTensors.FromFloats(input, shape))), 1e-4, $"{file} against ONNX Runtime");
    }

    [Fact]
    public void An_unknown_operator_is_one_clear_error_naming_it()
    {
        var model = OnnxModel.Load(Fixtures.PathOf("edge_unknown_op.noort.onnx"));
        var node = model.Graph.Nodes.First(n => !n.IsStandard);
        var error = Assert.Throws<TorchBackendException>(() => OnnxModule.Import(model));
        Assert.Contains(node.OpType, error.Message);
        Assert.Contains("not supported by the TorchSharp backend", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void Captures_return_the_intermediate_values_the_engine_computes()
    {
        var model = OnnxModel.Load(ShippedModelPath);
        var network = Network.Build(model);
        var shape = Shape(model, 2);
        var input = RandomInput(shape, 3);
        var watched = network.ComputedValues.Where((_, i) => i % 7 == 3).Take(4).ToList();
        var expected = new Dictionary<string, float[]>();
        var hooks = watched.Select(name => network.Capture(name, t => expected[name] = (float[])t.Data.Clone())).ToList();
        network.Forward(shape.Select(d => (int)d).ToArray(), input);

        using var module = OnnxModule.Import(model);
        module.eval();
        using var scope = NewDisposeScope();
        var values = module.Run(TorchTensors.FromFloats(input, shape), watched);
        foreach (var name in watched) Numerics.AssertClose(expected[name], Floats(values[name]), 1e-4, name);
        Assert.Throws<ArgumentException>(() => module.Run(TorchTensors.FromFloats(input, shape), ["no such value"]));
    }

    internal static string ShippedModelPath
    {
        get
        {
            for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
            {
                var candidate = Path.Combine(folder.FullName, "models", "fashion_resnet20.onnx");
                if (File.Exists(candidate)) return candidate;
            }
            throw new FileNotFoundException("models/fashion_resnet20.onnx not found above the test folder.");
        }
    }

    private static void AssertMatchesOracles(string path, string what, int batch)
    {
        var model = OnnxModel.Load(path);
        var shape = Shape(model, batch);
        var input = RandomInput(shape, what.Length);
        var engine = Network.Build(model).Forward(shape.Select(d => (int)d).ToArray(), input).Data.ToArray();

        using var module = OnnxModule.Import(model);
        module.eval();
        using var scope = NewDisposeScope();
        var actual = Floats(module.forward(TorchTensors.FromFloats(input, shape)));
        Numerics.AssertClose(RunOrt(path, model, shape, input), actual, 1e-4, $"{what} against ONNX Runtime");
        Numerics.AssertClose(engine, actual, 1e-4, $"{what} against the engine");
    }

    internal static long[] Shape(OnnxModel model, int batch) =>
        model.Graph.RuntimeInputs.Single().Shape!.Select((d, i) => d.Value ?? (i == 0 ? batch : throw new InvalidOperationException("symbolic non-batch dimension"))).ToArray();

    internal static float[] RandomInput(long[] shape, int seed)
    {
        var random = new Random(seed);
        var data = new float[shape.Aggregate(1L, (a, b) => a * b)];
        for (var i = 0; i < data.Length; i++) data[i] = (float)(random.NextDouble() * 2 - 1);
        return data;
    }

    internal static float[] Floats(Tensor t) => t.detach().cpu().contiguous().data<float>().ToArray();

    internal static float[] RunOrt(string path, OnnxModel model, long[] shape, float[] input)
    {
        using var session = new InferenceSession(path);
        var name = model.Graph.RuntimeInputs.Single().Name;
        var value = new OrtFloats(input, shape.Select(d => (int)d).ToArray());
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(name, value)]);
        return results.First(r => r.Name == model.Graph.Outputs[0].Name).AsEnumerable<float>().ToArray();
    }
}
