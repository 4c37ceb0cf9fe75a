using Acp.Onnx.Ir;

namespace Acp.Onnx.Analysis;

/// <summary>Shape rules of the Reduce* operators and ArgMax/ArgMin.</summary>
internal static class ReduceRules
{
    private static readonly string[] Reductions =
    [
        "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
        "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare",
    ];

    public static void Register(Dictionary<string, Action<NodeContext>> rules)
    {
        foreach (var op in Reductions) rules[op] = Reduce;
        rules["ArgMax"] = ArgExtreme;
        rules["ArgMin"] = ArgExtreme;
    }

    /// <summary>
    /// Axes come from input 1 (ReduceSum from opset 13, the others from 18) or the axes attribute. No axes means all
    /// of them, unless noop_with_empty_axes makes the node an identity. Reduced axes stay as 1 with keepdims (default).
    /// </summary>
    private static void Reduce(NodeContext context)
    {
        var x = context.Shape(0);
        var axes = context.Has(1) ? context.Ints(1, "axes") : context.IntsAttribute("axes");
        if ((axes is null || axes.Length == 0) && context.Node.GetInt("noop_with_empty_axes", 0) != 0)
        {
            context.Output(0, x);
            return;
        }
        var reduced = axes is null || axes.Length == 0
            ? Enumerable.Range(0, x.Length).ToHashSet()
            : axes.Select(a => ShapeMath.Axis(a, x.Length)).ToHashSet();
        context.Output(0, Reduced(x, reduced, context.Node.GetInt("keepdims", 1) != 0));
    }

    /// <summary>One axis (default 0) reduced to the index of its extreme, int64.</summary>
    private static void ArgExtreme(NodeContext context)
    {
        var x = context.Shape(0);
        var axis = ShapeMath.Axis(context.Node.GetInt("axis", 0), x.Length);
        context.Output(0, Reduced(x, [axis], context.Node.GetInt("keepdims", 1) != 0), ElementType.Int64);
    }

    private static long[] Reduced(long[] x, HashSet<int> axes, bool keepDims) =>
        x.Select((d, i) => axes.Contains(i) ? (keepDims ? 1 : -1) : d).Where(d => d >= 0).ToArray();
}
