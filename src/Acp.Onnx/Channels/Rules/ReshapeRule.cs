using Acp.Onnx.Ir;

namespace Acp.Onnx.Channels.Rules;

/// <summary>
/// Reshape, Flatten, Squeeze and Unsqueeze that keep the batch axis: within one sample the data stays in
/// row-major order, so output channel j holds positions [j·R_out, (j+1)·R_out) of the sample and is tied to every
/// input channel those positions come from. A Flatten before a Gemm gives each input channel its block of H×W
/// columns. A Reshape target that states the channel count is rewritten by surgery.
/// </summary>
internal sealed class ReshapeRule : ChannelRule
{
    public override IReadOnlyList<string> OpTypes { get; } = ["Reshape", "Flatten", "Squeeze", "Unsqueeze"];

    public override void Link(LinkContext context)
    {
        if (context.Input(0) is not { } input || context.Output(0) is not { } output)
        {
            context.Fence("its input's channels are not tracked");
            return;
        }
        if (input.Shape[0] != output.Shape[0])
        {
            context.Fence($"it moves channels out of axis 1 ([{string.Join(",", input.Shape)}] → [{string.Join(",", output.Shape)}])");
            return;
        }
        var inner = Axes.Product(input.Shape, 2);
        var outer = Axes.Product(output.Shape, 2);
        if (inner == 0 || outer == 0 || input.Channels * inner != output.Channels * outer)
        {
            context.Fence($"its input [{string.Join(",", input.Shape)}] and output [{string.Join(",", output.Shape)}] do not hold the same data per sample");
            return;
        }
        if (context.Node.OpType == "Reshape" && !TargetIsRewritable(context)) return;
        for (var j = 0; j < output.Channels; j++)
        {
            var first = j * outer / inner;
            var last = ((j + 1) * outer - 1) / inner;
            for (var i = first; i <= last; i++) context.Link(input, (int)i, output, j);
        }
    }

    /// <summary>
    /// A target whose entry 1 is -1 (or 0, copy the input's) follows the channels by itself; one that states the
    /// number must be a constant surgery can rewrite.
    /// </summary>
    private static bool TargetIsRewritable(LinkContext context)
    {
        var target = Target(context.Node, context.Opset, context.Contents);
        if (target is null)
        {
            context.Fence("its target shape is computed at run time");
            return false;
        }
        if (target.Length >= 2 && target[1] > 0 && context.Opset >= 5 && context.Constant(1) is null)
        {
            context.Fence($"its target shape [{string.Join(",", target)}] states the channel count but is computed at run time, so it cannot be rewritten");
            return false;
        }
        return true;
    }

    public override void Rewrite(RewriteContext context)
    {
        if (context.Original.OpType != "Reshape" || context.KeptOutput(0) is not { } kept) return;
        var target = Target(context.Original, context.Opset, context.Contents)!;
        if (target.Length < 2 || target[1] <= 0 || target[1] == kept.Length) return;
        var rewritten = (long[])target.Clone();
        rewritten[1] = kept.Length;
        if (context.Opset < 5) context.Node.SetAttribute(NodeAttribute.FromInts("shape", rewritten));
        else context.ReplaceInput(1, OnnxTensor.FromInt64s("", [rewritten.Length], rewritten));
    }

    private static long[]? Target(Node node, long opset, Func<int, OnnxTensor?> contents) =>
        opset < 5 ? node.GetInts("shape") : contents(1) is { IsInteger: true } t ? t.Int64s : null;
}
