using System.Text;
using Acp.Onnx.Analysis;
using Acp.Onnx.Ir;

namespace Acp.Onnx.Channels;

/// <summary>
/// The channel dependency groups of a model: which channels of which values must be removed together, which
/// groups can be pruned, and why the others cannot. Run it with <see cref="Run"/>; remove channels with
/// <see cref="ChannelSurgery"/>.
/// </summary>
/// <remarks>
/// <para>
/// The analysis follows axis 1 of every value computed from the graph input. Conv, Gemm and MatMul create
/// channels (their filters); BatchNormalization, activations, pooling, Pad, depthwise Conv, element-wise
/// arithmetic and layout operators carry them; Concat, Split, Slice, Flatten and Reshape map them to offsets and
/// blocks; a residual Add merges two producers' channels into one group. An operator it does not understand (or
/// a grouped Conv, a channel shuffle) fences every group it touches instead of failing, and so do graph inputs
/// and outputs, whose shapes callers depend on.
/// </para>
/// <para>Do not change the model between the analysis and the surgery: surgery works from what was analysed.</para>
/// </remarks>
public sealed class ChannelAnalysis
{
    private readonly IReadOnlyDictionary<string, ChannelMembership[]> _memberships;
    private readonly IReadOnlyDictionary<string, int> _channelCounts;

    internal ChannelAnalysis(OnnxModel model, ShapeInferenceResult shapes, ConstantResolver constants, IReadOnlyList<ChannelGroup> groups,
        IReadOnlyList<ChannelBinding> bindings, IReadOnlyDictionary<string, ChannelMembership[]> memberships, IReadOnlyDictionary<string, int> channelCounts)
    {
        Model = model;
        Shapes = shapes;
        Constants = constants;
        Groups = groups;
        Bindings = bindings;
        _memberships = memberships;
        _channelCounts = channelCounts;
        PrunableGroups = groups.Where(g => g.IsPrunable).ToArray();
        FencedGroups = groups.Where(g => !g.IsPrunable).ToArray();
    }

    /// <summary>The model analysed (not copied).</summary>
    public OnnxModel Model { get; }

    /// <summary>The shape inference the analysis used (symbolic dimensions, such as the batch, set to 1).</summary>
    public ShapeInferenceResult Shapes { get; }

    /// <summary>Every group, prunable or not, by id (the list index is the id).</summary>
    public IReadOnlyList<ChannelGroup> Groups { get; }

    /// <summary>The groups whose channels may be removed.</summary>
    public IReadOnlyList<ChannelGroup> PrunableGroups { get; }

    /// <summary>The groups that must keep every channel, each with its reasons.</summary>
    public IReadOnlyList<ChannelGroup> FencedGroups { get; }

    /// <summary>Every constant axis that is indexed by channels (weights, BN parameters, per-channel operands).</summary>
    public IReadOnlyList<ChannelBinding> Bindings { get; }

    /// <summary>The values whose channels the analysis follows.</summary>
    public IEnumerable<string> TrackedValues => _channelCounts.Keys;

    internal ConstantResolver Constants { get; }

    /// <summary>Analyses <paramref name="model"/>, which is not changed. Unknown operators fence; they never throw.</summary>
    /// <exception cref="ArgumentException">The graph is invalid (dangling inputs, a cycle).</exception>
    public static ChannelAnalysis Run(OnnxModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return ChannelAnalyzer.Analyze(model, ShapeInference.Run(model));
    }

    /// <summary>The group with id <paramref name="id"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">There is none.</exception>
    public ChannelGroup Group(int id) =>
        id >= 0 && id < Groups.Count ? Groups[id] : throw new ArgumentOutOfRangeException(nameof(id), id, $"There is no group {id}; the groups are 0..{Groups.Count - 1}.");

    /// <summary>The constant a binding refers to (a weight, a BatchNormalization parameter), as the model holds it.</summary>
    /// <exception cref="ArgumentException">The binding is not one of <see cref="Bindings"/>.</exception>
    public OnnxTensor BoundConstant(ChannelBinding binding)
    {
        ArgumentNullException.ThrowIfNull(binding);
        return Bindings.Contains(binding) && Constants.Resolve(binding.Node.InputAt(binding.InputIndex)) is { } source
            ? source.Tensor
            : throw new ArgumentException($"'{binding}' is not a binding of this analysis.", nameof(binding));
    }

    /// <summary>The groups <paramref name="value"/> carries channels of; empty for values the analysis does not follow.</summary>
    public IReadOnlyList<ChannelMembership> MembershipsOf(string value) =>
        _memberships.TryGetValue(value, out var memberships) ? memberships : [];

    /// <summary>How many channels <paramref name="value"/> has on axis 1, or null when the analysis does not follow it.</summary>
    public int? ChannelCount(string value) => _channelCounts.TryGetValue(value, out var count) ? count : null;

    /// <summary>e.g. <c>14 channel groups: 12 prunable (1,920 channels), 2 fenced</c>.</summary>
    public override string ToString() =>
        $"{Groups.Count} channel groups: {PrunableGroups.Count} prunable ({PrunableGroups.Sum(g => g.Width):N0} channels), {FencedGroups.Count} fenced";

    /// <summary>The summary, then one line per prunable group and the reasons of every fenced one.</summary>
    public string Summary()
    {
        var text = new StringBuilder().AppendLine(ToString());
        foreach (var group in PrunableGroups)
        {
            text.Append("  ").Append(group).Append(": ").AppendLine(string.Join(", ", group.Producers.Take(3)) + (group.Producers.Count > 3 ? ", ..." : ""));
        }
        foreach (var group in FencedGroups) text.Append("  ").AppendLine(group.ToString());
        return text.ToString();
    }

    /// <summary>Every group in full (<see cref="ChannelGroup.Describe"/>).</summary>
    public string Describe()
    {
        var text = new StringBuilder().AppendLine(ToString());
        foreach (var group in Groups) text.Append(group.Describe());
        return text.ToString();
    }
}
