namespace Acp.Onnx.Channels.Rules;

/// <summary>
/// MatMul of a matrix activation [N,K] by a constant [K,M] (a Linear layer exported without Gemm): consumes the
/// K columns with B's rows and produces the M columns with B's columns. Anything else fences.
/// </summary>
internal sealed class MatMulRule : ChannelRule
{
    public override IReadOnlyList<string> OpTypes { get; } = ["MatMul"];

    public override void Link(LinkContext context)
    {
        if (context.Output(0) is not { } output)
        {
            context.Fence("its output's channels are not tracked");
            return;
        }
        if (context.Input(1) is not null)
        {
            context.Fence("it multiplies two activations");
            return;
        }
        var input = context.Input(0);
        if (input is not null && input.Shape.Length != 2)
        {
            context.Fence($"it multiplies a rank-{input.Shape.Length} activation, whose axis 1 is not the one multiplied");
            return;
        }
        if (context.Constant(1) is not { Tensor.Dims.Length: 2 })
        {
            context.Fence("its second operand is not a constant matrix");
            return;
        }
        if (input is not null)
        {
            context.Consume(input);
            if (!context.Bind(1, 0, input)) return;
        }
        context.Produce(output);
        context.Bind(1, 1, output);
    }

    public override void Rewrite(RewriteContext context)
    {
        // The weight matrix is a bound constant.
    }
}
