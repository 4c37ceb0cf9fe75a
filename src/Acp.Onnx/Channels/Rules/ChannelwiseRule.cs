namespace Acp.Onnx.Channels.Rules;

/// <summary>
/// Operators that treat every element (or every channel) on its own: activations, Identity, Dropout. Output
/// channel c is input channel c; extra inputs (Clip bounds, Dropout ratio) must be constants.
/// </summary>
internal sealed class ChannelwiseRule : ChannelRule
{
    public override IReadOnlyList<string> OpTypes { get; } =
    [
        "Relu", "LeakyRelu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Elu", "Selu", "Celu", "Softplus",
        "Softsign", "Mish", "Gelu", "Erf", "Abs", "Neg", "Exp", "Log", "Sqrt", "Reciprocal", "Cast", "Identity", "Dropout",
    ];

    public override void Link(LinkContext context)
    {
        if (!Operands.OnlyFirstIsActivation(context)) return;
        if (context.Input(0) is not { } input)
        {
            context.Fence("its input's channels are not tracked");
            return;
        }
        // Dropout's optional mask output has the input's shape too.
        foreach (var output in context.TrackedOutputs) context.Same(input, output);
    }

    public override void Rewrite(RewriteContext context)
    {
        // Nothing in the node names a channel count.
    }
}
