using Acp.Engine.Kernels;
using Acp.Onnx.Ir;
using Acp.Onnx.Tests.Support;
using static Acp.Engine.Tests.Conv.ConvTestSupport;

namespace Acp.Engine.Tests.Conv;

/// <summary>
/// ONNX Runtime as an outside oracle for the forward kernels: each geometry becomes a single-node ONNX model
/// (opset 13) built with the repository's IR, and ORT's output must match ours.
/// </summary>
public sealed class OrtOracleTests
{
    private const double Tolerance = 1e-4;

    public static TheoryData<string> ConvNames => ConvCases.ConvNames;

    [Theory]
    [MemberData(nameof(ConvNames))]
    public void Conv_forward_matches_onnx_runtime(string name)
    {
        var g = ConvCases.Convolutions[name];
        if (g.Batch == 0) return;
        var rng = new Random(name.GetHashCode(StringComparison.Ordinal) ^ 0x5a5a);
        var x = RandomFloats(rng, g.InputLength);
        var w = RandomFloats(rng, g.WeightLength);
        var b = RandomFloats(rng, g.OutChannels);

        var graph = new Graph { Name = "conv" };
        graph.Inputs.Add(Float("x", g.Batch, g.InChannels, g.InHeight, g.InWidth));
        graph.Initializers.Add(OnnxTensor.FromFloats("w", [g.OutChannels, g.InChannelsPerGroup, g.KernelHeight, g.KernelWidth], w));
        graph.Initializers.Add(OnnxTensor.FromFloats("b", [g.OutChannels], b));
        graph.Nodes.Add(new Node("conv", "Conv", ["x", "w", "b"], ["y"],
        [
            NodeAttribute.FromInts("kernel_shape", [g.KernelHeight, g.KernelWidth]),
            NodeAttribute.FromInts("strides", [g.StrideH, g.StrideW]),
            NodeAttribute.FromInts("pads", [g.PadTop, g.PadLeft, g.PadBottom, g.PadRight]),
            NodeAttribute.FromInts("dilations", [g.DilationH, g.DilationW]),
            NodeAttribute.FromInt("group", g.Groups),
        ]));
        graph.Outputs.Add(new ValueInfo("y", ElementType.Float, null));

        var expected = RunSingle(graph, x, [g.Batch, g.InChannels, g.InHeight, g.InWidth], "y", out var shape);
        Assert.Equal(new long[] { g.Batch, g.OutChannels, g.OutHeight, g.OutWidth }, shape);

        var y = Output(g.OutputLength);
        Conv2d.Forward(g, Input(x), Input(w), Input(b), y);
        AssertClose(expected.Select(v => (double)v).ToArray(), y, Tolerance, $"{g} vs ORT");
        AssertSentinels(y, g.OutputLength, $"{g} y");
    }

    /// <summary>Pools ORT can express at opset 13: it requires every pad to be smaller than the window.</summary>
    public static TheoryData<string> PoolNames => new(ConvCases.Pools.Where(p => OrtAccepts(p.Value)).Select(p => p.Key));

    [Theory]
    [MemberData(nameof(PoolNames))]
    public void Max_pool_forward_and_indices_match_onnx_runtime(string name)
    {
        var g = ConvCases.Pools[name];
        var rng = new Random(name.GetHashCode(StringComparison.Ordinal) ^ 0x3c3c);
        var x = RandomFloats(rng, g.InputLength);

        var graph = PoolGraph("MaxPool", g, withDilations: true);
        graph.Outputs.Add(new ValueInfo("indices", ElementType.Int64, null));
        graph.Nodes[0].Outputs.Add("indices");
        using var session = OrtRun.Session(Model(graph).ToBytes());
        var outputs = session.RunFloat(("x", x, [g.Batch, g.Channels, g.InHeight, g.InWidth]));
        var expected = outputs.Named("y");
        Assert.Equal(new long[] { g.Batch, g.Channels, g.OutHeight, g.OutWidth }, expected.Shape);

        var y = Output(g.OutputLength);
        var argmax = IndexOutput(g.OutputLength);
        Pooling.MaxForward(g, Input(x), y, argmax);
        AssertClose(expected.Data.Select(v => (double)v).ToArray(), y, 0, $"{g} vs ORT");
        // Random values have no ties, so ORT's Indices (flat NCHW, storage_order 0) must name the same elements.
        Assert.Equal(outputs.Named("indices").Int64Data!, argmax.Take((int)g.OutputLength).Select(i => (long)i));
    }

    [Theory]
    [MemberData(nameof(PoolNames))]
    public void Average_pool_forward_matches_onnx_runtime_both_ways_of_counting_padding(string name)
    {
        if (ConvCases.Pools[name] is { DilationH: > 1 } or { DilationW: > 1 }) return; // AveragePool has dilations only from opset 19.
        foreach (var includePad in new[] { false, true })
        {
            var g = ConvCases.Pools[name] with { CountIncludePad = includePad };
            var rng = new Random(name.GetHashCode(StringComparison.Ordinal) ^ (includePad ? 0x1111 : 0x2222));
            var x = RandomFloats(rng, g.InputLength);

            var graph = PoolGraph("AveragePool", g, withDilations: false);
            graph.Nodes[0].Attributes.Add(NodeAttribute.FromInt("count_include_pad", includePad ? 1 : 0));
            var expected = RunSingle(graph, x, [g.Batch, g.Channels, g.InHeight, g.InWidth], "y", out var shape);
            Assert.Equal(new long[] { g.Batch, g.Channels, g.OutHeight, g.OutWidth }, shape);

            var y = Output(g.OutputLength);
            Pooling.AverageForward(g, Input(x), y);
            AssertClose(expected.Select(v => (double)v).ToArray(), y, Tolerance, $"{g} vs ORT");
        }
    }

    private static bool OrtAccepts(PoolGeometry g) =>
        g.PadTop < g.KernelHeight && g.PadBottom < g.KernelHeight && g.PadLeft < g.KernelWidth && g.PadRight < g.KernelWidth;

    private static Graph PoolGraph(string op, PoolGeometry g, bool withDilations)
    {
        var graph = new Graph { Name = op };
        graph.Inputs.Add(Float("x", g.Batch, g.Channels, g.InHeight, g.InWidth));
        var attributes = new List<NodeAttribute>
        {
            NodeAttribute.FromInts("kernel_shape", [g.KernelHeight, g.KernelWidth]),
            NodeAttribute.FromInts("strides", [g.StrideH, g.StrideW]),
            NodeAttribute.FromInts("pads", [g.PadTop, g.PadLeft, g.PadBottom, g.PadRight]),
            NodeAttribute.FromInt("ceil_mode", g.CeilMode ? 1 : 0),
        };
        if (withDilations) attributes.Add(NodeAttribute.FromInts("dilations", [g.DilationH, g.DilationW]));
        graph.Nodes.Add(new Node("pool", op, ["x"], ["y"], attributes));
        graph.Outputs.Add(new ValueInfo("y", ElementType.Float, null));
        return graph;
    }

    private static float[] RunSingle(Graph graph, float[] x, long[] xShape, string output, out long[] shape)
    {
        using var session = OrtRun.Session(Model(graph).ToBytes());
        var result = session.RunFloat(("x", x, xShape)).Named(output);
        shape = result.Shape;
        return result.Data;
    }

    private static OnnxModel Model(Graph graph)
    {
        var model = new OnnxModel(graph) { IrVersion = 8 };
        model.OpsetImports.Add(new OpsetImport("", 13));
        return model;
    }

    private static ValueInfo Float(string name, params int[] dims) =>
        new(name, ElementType.Float, dims.Select(d => Dimension.Fixed(d)).ToArray());
}
