namespace Acp.Onnx.Channels.Rules;

/// <summary>
/// Add, Sub, Mul, Div, Pow and the variadic Sum, Mean, Max and Min. Two activations with the same channels are the same channels afterwards (a residual
/// connection merges their groups); a constant operand is either the same for every channel or per channel and
/// sliced; an activation with a single channel broadcasts over all and is unaffected.
/// </summary>
internal sealed class ElementwiseRule : ChannelRule
{
    public override IReadOnlyList<string> OpTypes { get; } = ["Add", "Sub", "Mul", "Div", "Pow", "Sum", "Mean", "Max", "Min"];

    public override void Link(LinkContext context)
    {
        if (context.Output(0) is not { } output)
        {
            context.Fence("its output's channels are not tracked");
            return;
        }
        var carried = false;
        for (var i = 0; i < context.Node.Inputs.Count; i++)
        {
            if (context.Node.InputAt(i) is null) continue;
            if (context.Input(i) is { } input)
            {
                if (input.Shape.Length != output.Shape.Length)
                {
                    context.Fence($"input {i} has rank {input.Shape.Length} but the output rank {output.Shape.Length}; broadcasting across ranks moves the channel axis");
                    return;
                }
                if (input.Channels == output.Channels)
                {
                    context.Same(input, output);
                    carried = true;
                }
                else if (input.Channels != 1)
                {
                    context.Fence($"input {i} has {input.Channels} channels but the output {output.Channels}");
                    return;
                }
            }
            else if (!Operands.Bind(context, i, output))
            {
                return;
            }
        }
        if (!carried)
        {
            context.FencedOrigin(output, 0, output.Channels, "its channels are created by broadcasting, not carried from an input");
        }
    }

    public override void Rewrite(RewriteContext context)
    {
        // Per-channel operands are bound constants.
    }
}
