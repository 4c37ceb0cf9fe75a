namespace Acp.Onnx.Channels.Rules;

/// <summary>
/// Shape and Size read a value's dimensions, not its data. Whatever they feed recomputes from the smaller shape at
/// run time, so they neither link nor fence.
/// </summary>
internal sealed class ShapeReaderRule : ChannelRule
{
    public override IReadOnlyList<string> OpTypes { get; } = ["Shape", "Size"];

    public override void Link(LinkContext context)
    {
        // Nothing to relate: the output is metadata.
    }

    public override void Rewrite(RewriteContext context)
    {
        // Nothing to rewrite.
    }
}
