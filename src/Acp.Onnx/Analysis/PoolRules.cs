using Acp.Onnx.Ir;

namespace Acp.Onnx.Analysis;

/// <summary>Shape rules of the windowed and global pooling operators.</summary>
internal static class PoolRules
{
    public static void Register(Dictionary<string, Action<NodeContext>> rules)
    {
        foreach (var op in new[] { "MaxPool", "AveragePool", "LpPool" }) rules[op] = Pool;
        foreach (var op in new[] { "GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool" }) rules[op] = GlobalPool;
    }

    /// <summary>X [N,C,D...] → [N,C,D'...]; MaxPool's optional Indices output has the same shape, int64.</summary>
    private static void Pool(NodeContext context)
    {
        var x = SpatialInput(context);
        var kernel = context.IntsAttribute("kernel_shape") ?? throw new ShapeRuleException("attribute kernel_shape is missing");
        var ceilMode = context.Node.GetInt("ceil_mode", 0) != 0;
        long[] shape = [x[0], x[1], .. SlidingWindow.OutputSizes(context, x[2..], kernel, ceilMode)];
        context.Output(0, shape);
        context.Output(1, shape, ElementType.Int64);
    }

    /// <summary>X [N,C,D...] → [N,C,1...].</summary>
    private static void GlobalPool(NodeContext context)
    {
        var x = SpatialInput(context);
        context.Output(0, [x[0], x[1], .. Enumerable.Repeat(1L, x.Length - 2)]);
    }

    private static long[] SpatialInput(NodeContext context)
    {
        var x = context.Shape(0);
        return x.Length >= 3 ? x : throw new ShapeRuleException($"the input {ShapeMath.Format(x)} has rank {x.Length}; [N,C,spatial...] expected");
    }
}
