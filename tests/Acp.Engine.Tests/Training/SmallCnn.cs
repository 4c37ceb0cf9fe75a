using Acp.Onnx.Ir;

namespace Acp.Engine.Tests.Training;

/// <summary>A small Fashion-MNIST CNN built as an ONNX graph, He-initialised from a seed.</summary>
internal static class SmallCnn
{
    /// <summary>conv3×3(1→16)+BN+ReLU+pool → conv3×3(16→32)+BN+ReLU+pool → Flatten → Gemm(1568→10).</summary>
    public static OnnxModel Create(int seed)
    {
        var random = new Random(seed);
        var graph = new Graph { Name = "small_cnn" };
        graph.Inputs.Add(new ValueInfo("input", ElementType.Float, [Dimension.Symbolic("batch"), Dimension.Fixed(1), Dimension.Fixed(28), Dimension.Fixed(28)]));
        graph.Outputs.Add(new ValueInfo("logits", ElementType.Float, [Dimension.Symbolic("batch"), Dimension.Fixed(10)]));
        var x = "input";
        var channels = 1;
        foreach (var (width, stage) in new[] { (16, 1), (32, 2) })
        {
            graph.Initializers.Add(He($"conv{stage}.weight", [width, channels, 3, 3], channels * 9, random));
            graph.Nodes.Add(new Node($"conv{stage}", "Conv", [x, $"conv{stage}.weight"], [$"c{stage}"],
                [NodeAttribute.FromInts("kernel_shape", [3, 3]), NodeAttribute.FromInts("pads", [1, 1, 1, 1])]));
            graph.Initializers.Add(Filled($"bn{stage}.weight", width, 1f));
            graph.Initializers.Add(Filled($"bn{stage}.bias", width, 0f));
            graph.Initializers.Add(Filled($"bn{stage}.running_mean", width, 0f));
            graph.Initializers.Add(Filled($"bn{stage}.running_var", width, 1f));
            graph.Nodes.Add(new Node($"bn{stage}", "BatchNormalization",
                [$"c{stage}", $"bn{stage}.weight", $"bn{stage}.bias", $"bn{stage}.running_mean", $"bn{stage}.running_var"], [$"b{stage}"]));
            graph.Nodes.Add(new Node($"relu{stage}", "Relu", [$"b{stage}"], [$"r{stage}"]));
            graph.Nodes.Add(new Node($"pool{stage}", "MaxPool", [$"r{stage}"], [$"p{stage}"],
                [NodeAttribute.FromInts("kernel_shape", [2, 2]), NodeAttribute.FromInts("strides", [2, 2])]));
            x = $"p{stage}";
            channels = width;
        }
        graph.Nodes.Add(new Node("flatten", "Flatten", [x], ["features"], [NodeAttribute.FromInt("axis", 1)]));
        graph.Initializers.Add(He("fc.weight", [10, 32 * 7 * 7], 32 * 7 * 7, random));
        graph.Initializers.Add(Filled("fc.bias", 10, 0f));
        graph.Nodes.Add(new Node("fc", "Gemm", ["features", "fc.weight", "fc.bias"], ["logits"], [NodeAttribute.FromInt("transB", 1)]));
        var model = new OnnxModel(graph) { IrVersion = 8, ProducerName = "acp-tests" };
        model.OpsetImports.Add(new OpsetImport("", 13));
        return model;
    }

    private static OnnxTensor He(string name, long[] dims, int fanIn, Random random)
    {
        var data = new float[dims.Aggregate(1L, (a, b) => a * b)];
        var std = Math.Sqrt(2.0 / fanIn);
        for (var i = 0; i < data.Length; i++)
        {
            // Box–Muller: a normal sample from two uniforms.
            var u = 1 - random.NextDouble();
            data[i] = (float)(std * Math.Sqrt(-2 * Math.Log(u)) * Math.Cos(2 * Math.PI * random.NextDouble()));
        }
        return OnnxTensor.FromFloats(name, dims, data);
    }

    private static OnnxTensor Filled(string name, int count, float value) => OnnxTensor.FromFloats(name, [count], Enumerable.Repeat(value, count).ToArray());
}
