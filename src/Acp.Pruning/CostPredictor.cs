using Acp.Onnx.Analysis;
using Acp.Onnx.Channels;
using Acp.Onnx.Ir;

namespace Acp.Pruning;

/// <summary>
/// Predicts the parameters and MACs a model will have after channel surgery, without doing the surgery: every
/// parameter tensor and every Conv, Gemm and MatMul is re-sized from the channel counts its bound axes follow.
/// Cheap enough to call for every candidate of a search.
/// </summary>
/// <remarks>
/// From keep-sets the prediction is exact (tests hold it equal to <see cref="ModelCost"/> on the pruned model).
/// From widths alone it is exact when every member value carries each group channel equally often (true of
/// Conv/BN/activation/Concat/Flatten chains); a member holding only part of a group (after a Split or Slice) is
/// estimated in proportion. A parameter shared directly (the same value name) by readers that surgery must slice
/// differently is assumed split by shape, which is how surgery copies it.
/// </remarks>
public sealed class CostPredictor
{
    private readonly ChannelAnalysis _analysis;
    private readonly Graph _graph;
    private readonly IReadOnlyList<Node> _order;
    private readonly GraphIndex _index;
    private readonly ModelCost _cost;
    private readonly ILookup<(Node, int), ChannelBinding> _bindings;

    /// <summary>Prepares predictions for the model of <paramref name="analysis"/> at the batch size it was analysed with.</summary>
    public CostPredictor(ChannelAnalysis analysis)
    {
        ArgumentNullException.ThrowIfNull(analysis);
        _analysis = analysis;
        _graph = analysis.Model.Graph;
        _index = _graph.BuildIndex();
        _order = _index.TopologicalOrder ?? _graph.Nodes;
        _cost = ModelCost.Compute(analysis.Model, analysis.Shapes);
        _bindings = analysis.Bindings.ToLookup(b => (b.Node, b.InputIndex));
        Original = new PredictedCost(_cost.TotalParams, _cost.TotalMacs);
    }

    /// <summary>The model's cost before pruning.</summary>
    public PredictedCost Original { get; }

    /// <summary>The cost after surgery with <paramref name="plan"/>; exact.</summary>
    public PredictedCost Predict(PruningPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        return Predict(value => plan.ChannelCountAfter(value));
    }

    /// <summary>The cost after surgery with keep-sets <paramref name="keep"/> (group id → kept group channels); exact.</summary>
    public PredictedCost Predict(IReadOnlyDictionary<int, int[]> keep) => Predict(PruningPlan.Create(_analysis, keep));

    /// <summary>
    /// The cost when each group named in <paramref name="widths"/> keeps that many channels (others keep all),
    /// whichever they are.
    /// </summary>
    /// <exception cref="ArgumentException">A group is unknown, or a width is below 1 or above the group's, or a fenced group shrinks.</exception>
    public PredictedCost PredictFromWidths(IReadOnlyDictionary<int, int> widths)
    {
        ArgumentNullException.ThrowIfNull(widths);
        foreach (var (id, width) in widths)
        {
            if (id < 0 || id >= _analysis.Groups.Count) throw new ArgumentException($"There is no group {id}.", nameof(widths));
            var group = _analysis.Groups[id];
            if (width < 1 || width > group.Width) throw new ArgumentException($"Group {id} has {group.Width} channels; a width of {width} is impossible.", nameof(widths));
            if (!group.IsPrunable && width != group.Width) throw new ArgumentException($"Group {id} is fenced and keeps all {group.Width} channels.", nameof(widths));
        }
        return Predict(value =>
        {
            var memberships = _analysis.MembershipsOf(value);
            if (memberships.Count == 0) return null;
            long count = 0;
            foreach (var (group, member) in memberships)
            {
                var width = widths.TryGetValue(group.Id, out var w) ? w : group.Width;
                count += member.Multiplicity is { } m
                    ? (long)m * width
                    : (long)Math.Round((double)member.ChannelCount * width / group.Width, MidpointRounding.AwayFromZero);
            }
            return (int)count;
        });
    }

    private PredictedCost Predict(Func<string, int?> channels)
    {
        long Channels(string value, long original) => channels(value) ?? original;
        long[] Resized(Node node, int input, long[] dims)
        {
            var result = (long[])dims.Clone();
            foreach (var binding in _bindings[(node, input)]) result[binding.Axis] = Channels(binding.Value, dims[binding.Axis]);
            return result;
        }
        return new PredictedCost(Parameters(Resized), Macs(Channels, Resized));
    }

    /// <summary>ModelCost's parameter count, over the resized tensors.</summary>
    private long Parameters(Func<Node, int, long[], long[]> resized)
    {
        // Readers of one value that end up with different shapes read different copies after surgery.
        var shapesRead = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        var slots = new List<(Node Node, string Name, long[] Dims)>();
        foreach (var node in _order)
        {
            foreach (var input in ParameterSlots.Inputs(node))
            {
                if (node.InputAt(input) is not { } name || ParameterSlots.Resolve(_graph, _index, name) is not { } dims) continue;
                var after = resized(node, input, dims);
                slots.Add((node, name, after));
                if (!shapesRead.TryGetValue(name, out var set)) shapesRead[name] = set = [];
                set.Add(string.Join(",", after));
            }
        }
        var counted = new HashSet<string>(StringComparer.Ordinal);
        long total = 0;
        foreach (var (node, name, dims) in slots)
        {
            var elements = dims.Aggregate(1L, (a, b) => a * b);
            var key = shapesRead[name].Count > 1 ? $"{name}|{string.Join(",", dims)}" : name;
            if ((!ParameterSlots.IsArithmetic(node) || elements > 1) && counted.Add(key)) total += elements;
        }
        return total;
    }

    /// <summary>ModelCost's MAC count, recomputed for the nodes whose channels change.</summary>
    private long Macs(Func<string, long, long> channels, Func<Node, int, long[], long[]> resized)
    {
        long total = 0;
        foreach (var cost in _cost.Nodes)
        {
            if (cost.Macs is not { } macs) continue;
            var node = cost.Node;
            if (macs == 0 || !node.IsStandard || node.OpType is not ("Conv" or "Gemm" or "MatMul"))
            {
                total += macs;
                continue;
            }
            var x = Resize(_analysis.Shapes.ShapeOf(node.Inputs[0])!, node.Inputs[0], channels);
            var w = resized(node, 1, _analysis.Shapes.ShapeOf(node.Inputs[1])!);
            total += node.OpType switch
            {
                // Every output element accumulates over W[1..] (input channels per group × kernel).
                "Conv" => Product(Resize(_analysis.Shapes.ShapeOf(node.Outputs[0])!, node.Outputs[0], channels)) * Product(w[1..]),
                "Gemm" => Gemm(node, x, w),
                _ when x.Length == 2 && w.Length == 2 => x[0] * w[0] * w[1],
                _ => macs,
            };
        }
        return total;
    }

    private static long Gemm(Node node, long[] a, long[] b)
    {
        var m = node.GetInt("transA", 0) != 0 ? a[1] : a[0];
        var transB = node.GetInt("transB", 0) != 0;
        return m * (transB ? b[1] : b[0]) * (transB ? b[0] : b[1]);
    }

    /// <summary>The shape with axis 1 set to the value's channel count after pruning.</summary>
    private static long[] Resize(long[] shape, string value, Func<string, long, long> channels)
    {
        if (shape.Length < 2) return shape;
        var result = (long[])shape.Clone();
        result[1] = channels(value, shape[1]);
        return result;
    }

    private static long Product(long[] dims) => dims.Aggregate(1L, (a, b) => a * b);
}
