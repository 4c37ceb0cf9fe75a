using Acp.Onnx.Ir;

namespace Acp.Onnx.Analysis;

/// <summary>
/// One walk of the graph in topological order, applying each node's shape rule. A node that cannot be inferred
/// gets one diagnostic and leaves its outputs unknown; nodes that are unknown only because of such a node are
/// counted in a single summary rather than each reported.
/// </summary>
internal sealed class ShapePropagation
{
    private readonly List<ShapeDiagnostic> _diagnostics = [];
    private readonly HashSet<string> _unknown = new(StringComparer.Ordinal);
    private int _unknownDownstream;

    private ShapePropagation(InferenceState state) => State = state;

    /// <summary>What the walk found.</summary>
    public InferenceState State { get; }

    /// <summary>The problems it met, in graph order.</summary>
    public IReadOnlyList<ShapeDiagnostic> Diagnostics => _diagnostics;

    public static ShapePropagation Run(OnnxModel model, IReadOnlyDictionary<string, long[]> inputShapes)
    {
        var graph = model.Graph;
        var walk = new ShapePropagation(new InferenceState(graph, model.OpsetVersion));
        foreach (var input in graph.Inputs)
        {
            if (inputShapes.TryGetValue(input.Name, out var shape)) walk.State.Shapes[input.Name] = shape;
            else walk._unknown.Add(input.Name);
            if (input.ElementType is { } type) walk.State.Types[input.Name] = type;
        }
        foreach (var initializer in graph.Initializers)
        {
            walk.State.Shapes[initializer.Name] = initializer.Dims;
            walk.State.Types[initializer.Name] = initializer.ElementType;
            walk._unknown.Remove(initializer.Name);
        }
        var order = graph.BuildIndex().TopologicalOrder;
        if (order is null)
        {
            walk._diagnostics.Add(new(null, "the graph has a cycle; shapes cannot be inferred"));
            return walk;
        }
        foreach (var node in order) walk.Visit(node);
        if (walk._unknownDownstream > 0)
        {
            walk._diagnostics.Add(new(null, $"{walk._unknownDownstream} more node(s) have unknown output shapes because they depend on the values above"));
        }
        return walk;
    }

    private void Visit(Node node)
    {
        var missing = node.Inputs.Where(i => i.Length > 0 && !State.Shapes.ContainsKey(i)).ToList();
        if (missing.Count > 0)
        {
            if (missing.Find(i => !_unknown.Contains(i)) is { } undefined) Report(node, $"input '{undefined}' has no known shape");
            else _unknownDownstream++;
            LeaveUnknown(node);
            return;
        }
        if (!node.IsStandard)
        {
            Report(node, $"operators of domain '{node.Domain}' are not known to shape inference; the outputs' shapes are unknown");
            LeaveUnknown(node);
            return;
        }
        if (ShapeRules.For(node.OpType) is not { } rule)
        {
            Report(node, "this operator is not known to shape inference; the outputs' shapes are unknown");
            LeaveUnknown(node);
            return;
        }
        var context = new NodeContext(node, State);
        try
        {
            rule(context);
        }
        catch (ShapeRuleException e)
        {
            Report(node, e.Message);
            LeaveUnknown(node);
            return;
        }
        catch (OverflowException)
        {
            Report(node, "its sizes overflow 64-bit integers");
            LeaveUnknown(node);
            return;
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or IndexOutOfRangeException or DivideByZeroException)
        {
            // Attributes of the wrong kind, absurd sizes and the like: the model is malformed, which inference
            // reports rather than throws (it also runs on models that fail to load in onnxruntime).
            Report(node, $"malformed node: {e.Message}");
            LeaveUnknown(node);
            return;
        }
        var unknown = context.Commit();
        if (unknown.Count > 0)
        {
            Report(node, $"the shape of output {string.Join(", ", unknown.Select(o => $"'{o}'"))} could not be inferred");
            _unknown.UnionWith(unknown);
        }
    }

    private void Report(Node node, string message) => _diagnostics.Add(new(node, message));

    private void LeaveUnknown(Node node) => _unknown.UnionWith(node.Outputs.Where(o => o.Length > 0));
}
