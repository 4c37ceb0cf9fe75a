using Acp.Onnx.Channels.Rules;
using Acp.Onnx.Ir;

namespace Acp.Onnx.Channels;

/// <summary>The channel rule of every operator the analysis understands; everything else gets the fencing rule.</summary>
internal static class ChannelRules
{
    /// <summary>The rule of every operator no other rule knows: it fences.</summary>
    public static readonly ChannelRule Unknown = new UnknownOperatorRule();

    private static readonly Dictionary<string, ChannelRule> ByOpType = Build(
        new ConvRule(), new GemmRule(), new MatMulRule(), new NormalizationRule(), new ChannelwiseRule(), new PReluRule(),
        new PoolRule(), new PadRule(), new ElementwiseRule(), new ConcatRule(), new SplitRule(), new SliceRule(),
        new ReshapeRule(), new TransposeRule(), new ResizeRule(), new ShapeReaderRule());

    /// <summary>The rule for <paramref name="node"/>.</summary>
    public static ChannelRule For(Node node) =>
        node.IsStandard && ByOpType.TryGetValue(node.OpType, out var rule) ? rule : Unknown;

    private static Dictionary<string, ChannelRule> Build(params ChannelRule[] rules)
    {
        var map = new Dictionary<string, ChannelRule>(StringComparer.Ordinal);
        foreach (var rule in rules)
        {
            foreach (var op in rule.OpTypes) map.Add(op, rule);
        }
        return map;
    }
}
