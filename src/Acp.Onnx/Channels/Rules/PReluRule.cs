namespace Acp.Onnx.Channels.Rules;

/// <summary>PRelu: channels pass through; a per-channel slope ([C,1,1]) is sliced with them, a shared one is left alone.</summary>
internal sealed class PReluRule : ChannelRule
{
    public override IReadOnlyList<string> OpTypes { get; } = ["PRelu"];

    public override void Link(LinkContext context)
    {
        if (!Operands.OnlyFirstIsActivation(context)) return;
        if (context.Input(0) is not { } input || context.Output(0) is not { } output)
        {
            context.Fence("its input's channels are not tracked");
            return;
        }
        context.Same(input, output);
        Operands.Bind(context, 1, output);
    }

    public override void Rewrite(RewriteContext context)
    {
        // The slope is a bound constant.
    }
}
