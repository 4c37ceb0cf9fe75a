namespace Acp.Onnx.Channels.Rules;

/// <summary>Pooling works on each channel's plane alone, so output channel c is input channel c.</summary>
internal sealed class PoolRule : ChannelRule
{
    public override IReadOnlyList<string> OpTypes { get; } =
        ["MaxPool", "AveragePool", "LpPool", "GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool"];

    public override void Link(LinkContext context)
    {
        if (context.Node.Outputs.Count > 1 && context.Node.Outputs[1].Length > 0)
        {
            // MaxPool's indices are flat positions that count every channel before them.
            context.Fence("its Indices output encodes flat positions across channels");
            return;
        }
        if (context.Input(0) is { } input && context.Output(0) is { } output) context.Same(input, output);
        else context.Fence("its input's channels are not tracked");
    }

    public override void Rewrite(RewriteContext context)
    {
        // Kernel, stride and pad attributes do not depend on the channel count.
    }
}
