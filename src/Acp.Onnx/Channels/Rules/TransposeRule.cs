namespace Acp.Onnx.Channels.Rules;

/// <summary>
/// A Transpose that keeps axes 0 and 1 in place passes channels through; any other moves the channel axis (a
/// channel shuffle, a layout change) and fences.
/// </summary>
internal sealed class TransposeRule : ChannelRule
{
    public override IReadOnlyList<string> OpTypes { get; } = ["Transpose"];

    public override void Link(LinkContext context)
    {
        if (context.Input(0) is not { } input || context.Output(0) is not { } output)
        {
            context.Fence("its input's channels are not tracked");
            return;
        }
        var perm = context.Node.GetInts("perm") ?? Enumerable.Range(0, input.Shape.Length).Reverse().Select(i => (long)i).ToArray();
        if (perm.Length >= 2 && perm[0] == 0 && perm[1] == 1) context.Same(input, output);
        else context.Fence($"its permutation [{string.Join(",", perm)}] moves the channel axis (a channel shuffle or layout change)");
    }

    public override void Rewrite(RewriteContext context)
    {
        // The permutation does not depend on the channel count.
    }
}
