using Acp.Onnx.Ir;

namespace Acp.Onnx.Analysis;

/// <summary>Shape rules of BatchNormalization, InstanceNormalization and LayerNormalization.</summary>
internal static class NormalizationRules
{
    public static void Register(Dictionary<string, Action<NodeContext>> rules)
    {
        rules["BatchNormalization"] = BatchNormalization;
        rules["InstanceNormalization"] = InstanceNormalization;
        rules["LayerNormalization"] = LayerNormalization;
    }

    /// <summary>
    /// X [N,C,...] with scale, bias, mean and var of [C] → Y like X. The training form's extra outputs (running or
    /// saved mean and variance) are all [C].
    /// </summary>
    private static void BatchNormalization(NodeContext context)
    {
        var channels = Channels(context);
        string[] roles = ["scale", "bias", "mean", "var"];
        for (var i = 1; i <= roles.Length; i++) CheckPerChannel(context, i, roles[i - 1], channels);
        context.Output(0, context.Shape(0));
        for (var i = 1; i < context.Node.Outputs.Count; i++) context.Output(i, [channels]);
    }

    /// <summary>X [N,C,...] with scale and bias of [C] → Y like X.</summary>
    private static void InstanceNormalization(NodeContext context)
    {
        var channels = Channels(context);
        CheckPerChannel(context, 1, "scale", channels);
        CheckPerChannel(context, 2, "bias", channels);
        context.Output(0, context.Shape(0));
    }

    /// <summary>X → Y like X; Mean and InvStdDev keep X's dimensions before axis and have size 1 from it on.</summary>
    private static void LayerNormalization(NodeContext context)
    {
        var x = context.Shape(0);
        var axis = ShapeMath.Axis(context.Node.GetInt("axis", -1), x.Length);
        context.Output(0, x);
        long[] statistics = [.. x[..axis], .. Enumerable.Repeat(1L, x.Length - axis)];
        context.Output(1, statistics, ElementType.Float);
        context.Output(2, statistics, ElementType.Float);
    }

    private static long Channels(NodeContext context)
    {
        var x = context.Shape(0);
        return x.Length >= 2 ? x[1] : throw new ShapeRuleException($"the input {ShapeMath.Format(x)} has no channel axis");
    }

    private static void CheckPerChannel(NodeContext context, int index, string role, long channels)
    {
        if (!context.Has(index)) return;
        var shape = context.Shape(index);
        if (shape.Length != 1 || shape[0] != channels)
        {
            throw new ShapeRuleException($"the {role} has shape {ShapeMath.Format(shape)} but the input has {channels} channels");
        }
    }
}
