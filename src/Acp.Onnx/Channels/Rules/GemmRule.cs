namespace Acp.Onnx.Channels.Rules;

/// <summary>
/// Gemm (Y = A·B + C, B constant): produces its output columns with B's rows (transB) or columns and consumes A's
/// columns with the other axis of B; after a Flatten those columns are blocks of each channel's positions. A
/// bias C with one entry per output column is sliced with them.
/// </summary>
internal sealed class GemmRule : ChannelRule
{
    public override IReadOnlyList<string> OpTypes { get; } = ["Gemm"];

    public override void Link(LinkContext context)
    {
        if (context.Node.GetInt("transA", 0) != 0)
        {
            context.Fence("transA reads the features from axis 0");
            return;
        }
        if (context.Output(0) is not { } output)
        {
            context.Fence("its output's channels are not tracked");
            return;
        }
        if (context.Input(1) is not null || context.Input(2) is not null)
        {
            context.Fence("its weights or bias are activations");
            return;
        }
        if (context.Constant(1) is not { Tensor.Dims.Length: 2 })
        {
            context.Fence("its weights are not a constant matrix");
            return;
        }
        var transB = context.Node.GetInt("transB", 0) != 0;
        if (context.Input(0) is { } input)
        {
            context.Consume(input);
            if (!context.Bind(1, transB ? 1 : 0, input)) return;
        }
        context.Produce(output);
        if (!context.Bind(1, transB ? 0 : 1, output)) return;
        if (context.Node.InputAt(2) is not null) Operands.Bind(context, 2, output);
    }

    public override void Rewrite(RewriteContext context)
    {
        // Weights and bias are bound constants.
    }
}
