using Acp.Onnx.Analysis;
using Acp.Onnx.Ir;

namespace Acp.Onnx.Channels;

/// <summary>
/// The analysis pass: every node that touches a tracked value, in topological order, is handed to its rule, which
/// joins channels in the union-finds of a <see cref="ChannelSpace"/>. Union-find is order-independent, so one pass
/// is the whole worklist: when a later node merges two groups (a residual Add), everything already joined to either
/// follows. Graph inputs and outputs are fenced last.
/// </summary>
internal static class ChannelAnalyzer
{
    public static ChannelAnalysis Analyze(OnnxModel model, ShapeInferenceResult shapes)
    {
        var graph = model.Graph;
        var index = graph.BuildIndex();
        if (index.Problems.Count > 0 || index.TopologicalOrder is not { } order)
        {
            throw new ArgumentException($"The graph is invalid: {string.Join(" ", index.Problems.Take(3))}", nameof(model));
        }
        var dynamic = DynamicValues(graph, order, shapes);
        var candidates = graph.RuntimeInputs.Select(i => i.Name)
            .Concat(order.SelectMany(n => n.Outputs))
            .Where(dynamic.Contains)
            .Select(name => (name, shapes.ShapeOf(name)))
            .Where(c => c.Item2 is not null)
            .Select(c => (c.name, c.Item2!));
        var space = new ChannelSpace(candidates);
        var constants = new ConstantResolver(graph, index, shapes);

        foreach (var input in graph.RuntimeInputs)
        {
            if (space.Find(input.Name) is { } value)
            {
                space.Origin(value, 0, value.Channels);
                space.Fences.Add(new FenceRecord(value, 0, value.Channels, $"reaches graph input '{input.Name}'", null));
            }
        }
        foreach (var node in order)
        {
            var touchesTracked = node.Inputs.Concat(node.Outputs).Any(v => space.Find(v) is not null);
            if (!touchesTracked) continue;
            var context = new LinkContext(node, model.OpsetVersion, space, constants, shapes);
            var rule = ChannelRules.For(node);
            var untracked = node.Inputs.Concat(node.Outputs).FirstOrDefault(v => v.Length > 0 && dynamic.Contains(v) && space.Find(v) is null);
            // An unknown operator's own reason says more than the unknown output shape it causes.
            if (untracked is not null && rule != ChannelRules.Unknown)
            {
                context.Fence($"'{untracked}' has no channel axis Acp can follow (its shape is unknown or of rank below 2)");
                continue;
            }
            try
            {
                rule.Link(context);
            }
            catch (Exception e) when (e is InvalidOperationException or ArgumentException or IndexOutOfRangeException or OverflowException)
            {
                // A malformed node (an attribute of the wrong kind, absurd sizes): fence it rather than fail the analysis.
                context.Fence($"malformed node: {e.Message}");
            }
        }
        foreach (var output in graph.Outputs)
        {
            if (space.Find(output.Name) is { } value)
            {
                space.Fences.Add(new FenceRecord(value, 0, value.Channels, $"reaches graph output '{output.Name}'", null));
            }
        }
        return GroupBuilder.Build(model, shapes, constants, space);
    }

    /// <summary>
    /// Values computed from a graph input at run time: activations. Shape and Size outputs are metadata, and values
    /// shape inference folded (Constant nodes, shape chains) are compile-time data.
    /// </summary>
    private static HashSet<string> DynamicValues(Graph graph, IReadOnlyList<Node> order, ShapeInferenceResult shapes)
    {
        var dynamic = graph.RuntimeInputs.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var node in order)
        {
            if (node.IsStandard && node.OpType is "Shape" or "Size") continue;
            if (!node.Inputs.Any(i => i.Length > 0 && dynamic.Contains(i))) continue;
            foreach (var output in node.Outputs)
            {
                if (output.Length > 0 && !shapes.Constants.ContainsKey(output)) dynamic.Add(output);
            }
        }
        return dynamic;
    }
}
