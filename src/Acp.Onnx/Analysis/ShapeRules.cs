namespace Acp.Onnx.Analysis;

/// <summary>The shape rule of every standard operator that shape inference knows, by op type.</summary>
internal static class ShapeRules
{
    private static readonly Dictionary<string, Action<NodeContext>> Rules = Build();

    /// <summary>The rule for <paramref name="opType"/>, or null when the operator is not supported.</summary>
    public static Action<NodeContext>? For(string opType) => Rules.GetValueOrDefault(opType);

    private static Dictionary<string, Action<NodeContext>> Build()
    {
        var rules = new Dictionary<string, Action<NodeContext>>(StringComparer.Ordinal);
        ConvRules.Register(rules);
        PoolRules.Register(rules);
        NormalizationRules.Register(rules);
        ElementwiseRules.Register(rules);
        MatrixRules.Register(rules);
        LayoutRules.Register(rules);
        IndexingRules.Register(rules);
        ReduceRules.Register(rules);
        SourceRules.Register(rules);
        ResizeRules.Register(rules);
        return rules;
    }
}
