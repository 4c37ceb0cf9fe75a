using Acp.Onnx.Ir;

namespace Acp.Onnx.Channels.Rules;

/// <summary>
/// Conv. An ordinary one (group 1) produces its output channels with its filters (W axis 0, bias) and consumes
/// its input channels (W axis 1). A depthwise one, recognised by group = input channels = output channels > 1
/// (not merely output channels = group, which a 1-channel conv also satisfies), filters each channel alone: it
/// passes channels through and its filters and group count shrink with them. Any other grouped conv ties channels
/// in blocks and fences.
/// </summary>
internal sealed class ConvRule : ChannelRule
{
    public override IReadOnlyList<string> OpTypes { get; } = ["Conv"];

    public override void Link(LinkContext context)
    {
        if (context.Output(0) is not { } output)
        {
            context.Fence("its output's channels are not tracked");
            return;
        }
        if (context.Constant(1) is not { Tensor: { IsFloat: true, Dims.Length: >= 3 } weight })
        {
            context.Fence("its weights are not a float constant, so they cannot be sliced");
            return;
        }
        if (context.Input(1) is not null || context.Input(2) is not null)
        {
            context.Fence("its weights or bias are activations");
            return;
        }
        var input = context.Input(0);
        var hasBias = context.Node.InputAt(2) is not null;
        switch (Classify(context.Node, weight))
        {
            case Kind.Ordinary:
                if (input is not null)
                {
                    context.Consume(input);
                    if (!context.Bind(1, 1, input)) return;
                }
                context.Produce(output);
                if (context.Bind(1, 0, output) && hasBias) context.Bind(2, 0, output);
                return;
            case Kind.Depthwise:
                if (input is null)
                {
                    context.Fence("a depthwise convolution over a value whose channels are not tracked");
                    return;
                }
                context.Same(input, output);
                if (context.Bind(1, 0, output) && hasBias) context.Bind(2, 0, output);
                return;
            default:
                var group = context.Node.GetInt("group", 1);
                context.Fence($"grouped convolution (group {group}, {weight.Dims[1] * group}→{weight.Dims[0]} channels) ties channels in blocks");
                return;
        }
    }

    public override void Rewrite(RewriteContext context)
    {
        var weight = context.Contents(1)!;
        if (Classify(context.Original, weight) == Kind.Depthwise && context.KeptOutput(0) is { } kept)
        {
            context.Node.SetAttribute(NodeAttribute.FromInt("group", kept.Length));
        }
    }

    private enum Kind { Ordinary, Depthwise, Grouped }

    private static Kind Classify(Node node, OnnxTensor weight)
    {
        var group = node.GetInt("group", 1);
        if (group == 1) return Kind.Ordinary;
        var inputChannels = weight.Dims[1] * group;
        return weight.Dims[1] == 1 && inputChannels == group && weight.Dims[0] == group ? Kind.Depthwise : Kind.Grouped;
    }
}
