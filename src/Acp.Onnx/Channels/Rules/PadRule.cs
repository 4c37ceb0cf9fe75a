namespace Acp.Onnx.Channels.Rules;

/// <summary>Pad that leaves the channel axis alone passes channels through; padding channels fences.</summary>
internal sealed class PadRule : ChannelRule
{
    public override IReadOnlyList<string> OpTypes { get; } = ["Pad"];

    public override void Link(LinkContext context)
    {
        if (context.Input(0) is not { } input || context.Output(0) is not { } output)
        {
            context.Fence("its input's channels are not tracked");
            return;
        }
        if (!Operands.OnlyFirstIsActivation(context)) return;
        var rank = input.Shape.Length;
        var pads = context.Node.GetInts("pads") ?? context.Node.GetInts("paddings") ?? context.Contents(1)?.Int64s;
        var axes = context.Node.InputAt(3) is null
            ? Enumerable.Range(0, rank).ToArray()
            : context.Contents(3)?.Int64s.Select(a => Axes.Normalize(a, rank)).ToArray();
        if (pads is null || axes is null || pads.Length != 2 * axes.Length)
        {
            context.Fence("its pad amounts are computed at run time");
            return;
        }
        var entry = Array.IndexOf(axes, 1);
        if (entry >= 0 && (pads[entry] != 0 || pads[entry + axes.Length] != 0))
        {
            context.Fence($"it pads the channel axis by {pads[entry]} before and {pads[entry + axes.Length]} after");
            return;
        }
        context.Same(input, output);
    }

    public override void Rewrite(RewriteContext context)
    {
        // The channel axis has no padding, so nothing changes.
    }
}
