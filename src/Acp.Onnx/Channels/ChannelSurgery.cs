using Acp.Onnx.Analysis;
using Acp.Onnx.Ir;

namespace Acp.Onnx.Channels;

/// <summary>
/// Physically removes channels: returns a new, smaller model in which every pruned group's producers have fewer
/// filters, its consumers fewer input channels, and every per-channel constant, size and shape in between agrees.
/// </summary>
/// <remarks>
/// Steps: slice every bound constant (<see cref="ChannelAnalysis.Bindings"/>) by the kept channels of its value;
/// let each touched node's rule rewrite what it states about channel counts (depthwise group, split sizes, slice
/// bounds, reshape target); apply those constant changes copy-on-write; remove what nothing reads any more; drop
/// stale value_info entries; run shape inference on the result, check every changed value has the planned channel
/// count, and write the inferred shapes back. A plan that names no group returns an exact copy.
/// </remarks>
public static class ChannelSurgery
{
    /// <summary>Prunes <paramref name="analysis"/>'s model, keeping the channels in <paramref name="keep"/> (group id → kept group channels).</summary>
    /// <exception cref="ArgumentException">The keep-sets are invalid (see <see cref="PruningPlan.Create"/>).</exception>
    public static ChannelSurgeryResult Apply(ChannelAnalysis analysis, IReadOnlyDictionary<int, int[]> keep) =>
        Apply(PruningPlan.Create(analysis, keep));

    /// <summary>Prunes the plan's model.</summary>
    /// <exception cref="InvalidOperationException">
    /// The model changed since the analysis, or the result fails its own shape check (a bug: please report it).
    /// </exception>
    public static ChannelSurgeryResult Apply(PruningPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var analysis = plan.Analysis;
        var original = analysis.Model;
        var model = original.Clone();
        var graph = model.Graph;
        var groups = plan.Keep.Select(kv => new GroupWidthChange(kv.Key, analysis.Groups[kv.Key].Width, kv.Value.Length)).ToArray();
        var fenced = analysis.FencedGroups;
        if (plan.Keep.Count == 0)
        {
            return new ChannelSurgeryResult(model, new ChannelSurgeryReport(groups, fenced, [], [], [], [], []));
        }
        if (graph.Nodes.Count != original.Graph.Nodes.Count)
        {
            throw new InvalidOperationException("The model changed since it was analysed; run the analysis again.");
        }
        var copyOf = new Dictionary<Node, Node>(ReferenceEqualityComparer.Instance);
        for (var i = 0; i < graph.Nodes.Count; i++) copyOf[original.Graph.Nodes[i]] = graph.Nodes[i];

        var readBefore = GraphCleanup.ReadValues(graph);
        var rewriter = new ConstantRewriter(graph);
        SliceBoundConstants(plan, copyOf, rewriter);
        foreach (var node in original.Graph.Nodes)
        {
            if (!node.Inputs.Concat(node.Outputs).Any(v => plan.KeptChannels(v) is not null)) continue;
            var context = new RewriteContext(node, copyOf[node], original.OpsetVersion, plan, analysis.Constants, analysis.Shapes, rewriter);
            ChannelRules.For(node).Rewrite(context);
        }
        rewriter.Apply();
        var (removedNodes, removedInitializers) = GraphCleanup.RemoveOrphans(graph, readBefore);

        var changed = analysis.TrackedValues.Where(v => plan.KeptChannels(v) is not null).ToHashSet(StringComparer.Ordinal);
        var defined = graph.Nodes.SelectMany(n => n.Outputs).Concat(graph.Initializers.Select(t => t.Name)).Concat(graph.Inputs.Select(i => i.Name))
            .ToHashSet(StringComparer.Ordinal);
        graph.ValueInfos.RemoveAll(v => !defined.Contains(v.Name) || changed.Contains(v.Name));
        Verify(plan, model, changed).ApplyToGraph(graph);

        var report = new ChannelSurgeryReport(groups, fenced, rewriter.ChangedInPlace, rewriter.Copies, rewriter.Added, removedNodes, removedInitializers);
        return new ChannelSurgeryResult(model, report);
    }

    /// <summary>Slices every constant whose axes follow channels the plan changes.</summary>
    private static void SliceBoundConstants(PruningPlan plan, Dictionary<Node, Node> copyOf, ConstantRewriter rewriter)
    {
        var analysis = plan.Analysis;
        foreach (var bound in analysis.Bindings.GroupBy(b => (b.Node, b.InputIndex)))
        {
            var (node, input) = bound.Key;
            if (bound.All(b => plan.KeptChannels(b.Value) is null)) continue;
            var source = analysis.Constants.Resolve(node.InputAt(input))!.Tensor;
            var sliced = source;
            foreach (var binding in bound)
            {
                if (plan.KeptChannels(binding.Value) is { } kept && kept.Length != sliced.Dims[binding.Axis])
                {
                    sliced = TensorSlicing.Slice(sliced, binding.Axis, kept);
                }
            }
            if (!ReferenceEquals(sliced, source)) rewriter.Request(copyOf[node], input, sliced);
        }
    }

    /// <summary>The result must infer without new problems, and every changed value must have its planned channel count.</summary>
    private static ShapeInferenceResult Verify(PruningPlan plan, OnnxModel model, HashSet<string> changed)
    {
        var inferred = ShapeInference.Run(model);
        if (inferred.Diagnostics.Count > plan.Analysis.Shapes.Diagnostics.Count)
        {
            throw new InvalidOperationException($"Channel surgery produced a model that shape inference rejects: {string.Join(" ", inferred.Diagnostics.Take(3))}");
        }
        foreach (var value in changed)
        {
            var expected = plan.KeptChannels(value)!.Length;
            if (inferred.ShapeOf(value) is { Length: >= 2 } shape && shape[1] != expected)
            {
                throw new InvalidOperationException($"Channel surgery left '{value}' with {shape[1]} channels; the plan keeps {expected}.");
            }
        }
        return inferred;
    }
}
