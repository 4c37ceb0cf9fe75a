using Acp.Onnx.Ir;

namespace Acp.Onnx.Channels.Rules;

/// <summary>
/// Split along axis 1 gives each output a range of the input's channels; along another axis every output has
/// the input's channels. Surgery rewrites the sizes (input 1 from opset 13, the split attribute before) and
/// writes them out when the split was equal, since it may not be afterwards.
/// </summary>
internal sealed class SplitRule : ChannelRule
{
    public override IReadOnlyList<string> OpTypes { get; } = ["Split"];

    public override void Link(LinkContext context)
    {
        if (context.Input(0) is not { } input)
        {
            context.Fence("its input's channels are not tracked");
            return;
        }
        if (Axes.Normalize(context.Node.GetInt("axis", 0), input.Shape.Length) != 1)
        {
            foreach (var output in context.TrackedOutputs) context.Same(input, output);
            return;
        }
        if (context.Node.InputAt(1) is not null && context.Constant(1) is null)
        {
            context.Fence("the split sizes are computed at run time, so they cannot be rewritten");
            return;
        }
        var offset = 0;
        for (var k = 0; k < context.Node.Outputs.Count; k++)
        {
            if (context.OutputShape(k) is not { Length: >= 2 } shape)
            {
                context.Fence($"the shape of output {k} is unknown");
                return;
            }
            var size = (int)shape[1];
            if (context.Output(k) is { } output) context.Map(input, offset, output, 0, size);
            offset += size;
        }
    }

    public override void Rewrite(RewriteContext context)
    {
        var rank = context.InputShape(0)!.Length;
        if (Axes.Normalize(context.Original.GetInt("axis", 0), rank) != 1) return;
        var count = context.Original.Outputs.Count;
        var before = Enumerable.Range(0, count).Select(k => context.OutputShape(k)![1]).ToArray();
        var after = Enumerable.Range(0, count).Select(k => (long?)context.KeptOutput(k)?.Length ?? before[k]).ToArray();
        if (before.SequenceEqual(after)) return;
        var sizes = OnnxTensor.FromInt64s("", [count], after);
        if (context.Original.InputAt(1) is not null)
        {
            context.ReplaceInput(1, sizes);
        }
        else if (context.Opset < 13)
        {
            context.Node.SetAttribute(NodeAttribute.FromInts("split", after));
        }
        else
        {
            // An equal split (or num_outputs, opset 18) may not be equal any more: state the sizes instead.
            context.Node.Attributes.RemoveAll(a => a.Name == "num_outputs");
            context.AddInput(1, sizes, "split");
        }
    }
}
