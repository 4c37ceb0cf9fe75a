using Acp.Onnx.Ir;

namespace Acp.Onnx.Channels.Rules;

/// <summary>
/// Resize and Upsample that leave axis 1 alone (scale 1, or a target size equal to the channel count) work on each
/// channel's plane: channels pass through, as in the upsampling paths of FPN and YOLO necks. A target size that
/// states the channel count is rewritten by surgery, so it must be a constant.
/// </summary>
internal sealed class ResizeRule : ChannelRule
{
    public override IReadOnlyList<string> OpTypes { get; } = ["Resize", "Upsample"];

    public override void Link(LinkContext context)
    {
        if (context.Input(0) is not { } input || context.Output(0) is not { } output)
        {
            context.Fence("its input's channels are not tracked");
            return;
        }
        if (input.Channels != output.Channels)
        {
            context.Fence($"it resizes the channel axis ({input.Channels} → {output.Channels} channels)");
            return;
        }
        if (SizesEntry(context.Node, input.Shape.Length) is { } entry && context.Constant(entry.Input) is null)
        {
            context.Fence("its target sizes are computed at run time and state the channel count, so they cannot be rewritten");
            return;
        }
        context.Same(input, output);
    }

    public override void Rewrite(RewriteContext context)
    {
        var rank = context.InputShape(0)!.Length;
        if (SizesEntry(context.Original, rank) is not { } entry || context.KeptOutput(0) is not { } kept) return;
        var sizes = context.Contents(entry.Input)!.Int64s;
        if (sizes[entry.Position] == kept.Length) return;
        var rewritten = (long[])sizes.Clone();
        rewritten[entry.Position] = kept.Length;
        context.ReplaceInput(entry.Input, OnnxTensor.FromInt64s("", [rewritten.Length], rewritten));
    }

    /// <summary>Where Resize's sizes input (opset 11+, input 3) names axis 1, or null when it does not.</summary>
    private static (int Input, int Position)? SizesEntry(Node node, int rank)
    {
        if (node.OpType != "Resize" || node.InputAt(3) is null) return null;
        var axes = node.GetInts("axes");
        var position = axes is null ? 1 : Array.FindIndex(axes, a => Axes.Normalize(a, rank) == 1);
        return position >= 0 ? (3, position) : null;
    }
}
