namespace Acp.Onnx.Channels.Rules;

/// <summary>
/// BatchNormalization and InstanceNormalization normalise each channel with its own parameters ([C] each):
/// channels pass through, and scale, bias (and BN's mean and variance) are sliced with them.
/// </summary>
internal sealed class NormalizationRule : ChannelRule
{
    public override IReadOnlyList<string> OpTypes { get; } = ["BatchNormalization", "InstanceNormalization"];

    public override void Link(LinkContext context)
    {
        if (context.Node.Outputs.Skip(1).Any(o => o.Length > 0))
        {
            context.Fence("training-mode BatchNormalization (running statistics as outputs) is not supported");
            return;
        }
        if (context.Input(0) is not { } input || context.Output(0) is not { } output)
        {
            context.Fence("its input's channels are not tracked");
            return;
        }
        if (!Operands.OnlyFirstIsActivation(context)) return;
        context.Same(input, output);
        var parameters = context.Node.OpType == "BatchNormalization" ? 4 : 2;
        for (var i = 1; i <= parameters && i < context.Node.Inputs.Count; i++)
        {
            if (!context.Bind(i, 0, output)) return;
        }
    }

    public override void Rewrite(RewriteContext context)
    {
        // The parameters are bound constants; epsilon and momentum do not depend on channels.
    }
}
