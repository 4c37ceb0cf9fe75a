namespace Acp.Onnx.Channels.Rules;

/// <summary>
/// Concat along axis 1 places each input's channels at its offset in the output (the same input twice occupies
/// two ranges, both its channels); along another axis every input has the output's channels.
/// </summary>
internal sealed class ConcatRule : ChannelRule
{
    public override IReadOnlyList<string> OpTypes { get; } = ["Concat"];

    public override void Link(LinkContext context)
    {
        if (context.Output(0) is not { } output)
        {
            context.Fence("its output's channels are not tracked");
            return;
        }
        var axis = Axes.Normalize(context.Node.GetInt("axis", 1), output.Shape.Length);
        if (axis == 1)
        {
            LinkChannelAxis(context, output);
            return;
        }
        for (var i = 0; i < context.Node.Inputs.Count; i++)
        {
            if (context.Node.InputAt(i) is null) continue;
            if (context.Input(i) is { } input) context.Same(input, output);
            else if (!context.Bind(i, 1, output)) return;
        }
    }

    private static void LinkChannelAxis(LinkContext context, TrackedValue output)
    {
        var offset = 0;
        for (var i = 0; i < context.Node.Inputs.Count; i++)
        {
            if (context.Node.InputAt(i) is not { } name) continue;
            if (context.InputShape(i) is not { Length: >= 2 } shape)
            {
                context.Fence($"the shape of input {i} ('{name}') is unknown");
                return;
            }
            var size = (int)shape[1];
            if (context.Input(i) is { } input) context.Map(input, 0, output, offset, size);
            else if (size > 0) context.FencedOrigin(output, offset, size, $"channels [{offset},{offset + size}) come from the constant '{name}'");
            offset += size;
        }
    }

    public override void Rewrite(RewriteContext context)
    {
        // The output's size is the sum of the inputs'; nothing in the node states it.
    }
}
