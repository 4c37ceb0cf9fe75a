namespace Acp.Onnx.Channels.Rules;

/// <summary>
/// Any operator no other rule knows (and every operator outside the standard domain): its channels cannot be
/// followed, so every group it touches is fenced and its outputs start fenced groups. It never throws.
/// </summary>
internal sealed class UnknownOperatorRule : ChannelRule
{
    public override IReadOnlyList<string> OpTypes { get; } = [];

    public override void Link(LinkContext context) =>
        context.Fence(context.Node.IsStandard
            ? $"operator {context.Node.OpType} is not understood by the channel analysis"
            : $"unknown operator {context.Node.Domain}::{context.Node.OpType}");

    public override void Rewrite(RewriteContext context)
    {
        // Fenced nodes keep every channel, so they are never rewritten.
    }
}
