using Acp.Onnx.Ir;

namespace Acp.Onnx.Tests.Support;

/// <summary>Small models built in code, for tests that must not depend on the generated fixtures.</summary>
public static class TinyModels
{
    /// <summary>Conv(3→4, 3×3, pad 1) → Relu → MaxPool(2) → Flatten → Gemm(→5), input [N,3,6,6].</summary>
    public static OnnxModel Cnn(int seed = 0)
    {
        var random = new Random(seed);
        var graph = new Graph { Name = "tiny_cnn" };
        graph.Inputs.Add(new ValueInfo("input", ElementType.Float, [Dimension.Symbolic("batch"), Dimension.Fixed(3), Dimension.Fixed(6), Dimension.Fixed(6)]));
        graph.Outputs.Add(new ValueInfo("output", ElementType.Float, [Dimension.Symbolic("batch"), Dimension.Fixed(5)]));
        graph.Initializers.Add(RandomFloats("conv.w", [4, 3, 3, 3], random));
        graph.Initializers.Add(RandomFloats("conv.b", [4], random));
        graph.Initializers.Add(RandomFloats("fc.w", [5, 36], random));
        graph.Initializers.Add(RandomFloats("fc.b", [5], random));
        graph.Nodes.Add(new Node("conv", "Conv", ["input", "conv.w", "conv.b"], ["c"],
            [NodeAttribute.FromInts("kernel_shape", [3, 3]), NodeAttribute.FromInts("pads", [1, 1, 1, 1])]));
        graph.Nodes.Add(new Node("relu", "Relu", ["c"], ["r"]));
        graph.Nodes.Add(new Node("pool", "MaxPool", ["r"], ["p"],
            [NodeAttribute.FromInts("kernel_shape", [2, 2]), NodeAttribute.FromInts("strides", [2, 2])]));
        graph.Nodes.Add(new Node("flatten", "Flatten", ["p"], ["f"], [NodeAttribute.FromInt("axis", 1)]));
        graph.Nodes.Add(new Node("fc", "Gemm", ["f", "fc.w", "fc.b"], ["output"], [NodeAttribute.FromInt("transB", 1)]));
        var model = new OnnxModel(graph) { IrVersion = 8, ProducerName = "acp-tests" };
        model.OpsetImports.Add(new OpsetImport("", 13));
        return model;
    }

    /// <summary>A float tensor of uniform values in [-1, 1).</summary>
    public static OnnxTensor RandomFloats(string name, long[] dims, Random random)
    {
        var data = new float[OnnxTensor.CountElements(dims)!.Value];
        for (var i = 0; i < data.Length; i++) data[i] = (float)(random.NextDouble() * 2 - 1);
        return OnnxTensor.FromFloats(name, dims, data);
    }
}
