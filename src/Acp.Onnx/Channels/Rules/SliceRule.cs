using Acp.Onnx.Ir;

namespace Acp.Onnx.Channels.Rules;

/// <summary>
/// Slice with step 1 on axis 1 keeps a contiguous range of the input's channels; a Slice that leaves axis 1 alone
/// passes channels through. Surgery moves the bounds to where the kept channels are in the smaller input.
/// </summary>
internal sealed class SliceRule : ChannelRule
{
    public override IReadOnlyList<string> OpTypes { get; } = ["Slice"];

    public override void Link(LinkContext context)
    {
        if (context.Input(0) is not { } input || context.Output(0) is not { } output)
        {
            context.Fence("its input's channels are not tracked");
            return;
        }
        if (Bounds.Read(context.Node, context.Opset, context.Contents) is not { } bounds)
        {
            context.Fence("the slice bounds are computed at run time");
            return;
        }
        var entry = bounds.ChannelEntry(input.Shape.Length);
        if (entry < 0)
        {
            context.Same(input, output);
            return;
        }
        if (bounds.Steps[entry] != 1)
        {
            context.Fence($"it slices the channel axis with step {bounds.Steps[entry]}");
            return;
        }
        if (context.Opset >= 10 && (context.Constant(1) is null || context.Constant(2) is null))
        {
            context.Fence("the slice bounds on the channel axis are computed at run time, so they cannot be rewritten");
            return;
        }
        var (start, count) = Bounds.Range(input.Channels, bounds.Starts[entry], bounds.Ends[entry]);
        if (count != output.Channels)
        {
            context.Fence($"the slice [{start},{start + count}) does not match the {output.Channels} output channels");
            return;
        }
        context.Map(input, start, output, 0, count);
    }

    public override void Rewrite(RewriteContext context)
    {
        var shape = context.InputShape(0)!;
        var bounds = Bounds.Read(context.Original, context.Opset, context.Contents)!;
        var entry = bounds.ChannelEntry(shape.Length);
        if (entry < 0) return;
        var (start, count) = Bounds.Range((int)shape[1], bounds.Starts[entry], bounds.Ends[entry]);
        var kept = context.KeptInput(0) ?? Axes.Identity((int)shape[1]);
        var newStart = kept.Count(c => c < start);
        var newEnd = newStart + (context.KeptOutput(0)?.Length ?? count);
        if (newStart == start && newEnd == start + count) return;
        var starts = (long[])bounds.Starts.Clone();
        var ends = (long[])bounds.Ends.Clone();
        starts[entry] = newStart;
        ends[entry] = newEnd;
        if (context.Opset < 10)
        {
            context.Node.SetAttribute(NodeAttribute.FromInts("starts", starts));
            context.Node.SetAttribute(NodeAttribute.FromInts("ends", ends));
            return;
        }
        context.ReplaceInput(1, OnnxTensor.FromInt64s("", [starts.Length], starts));
        context.ReplaceInput(2, OnnxTensor.FromInt64s("", [ends.Length], ends));
        // starts, ends, axes and steps share one index type; the new bounds are int64, so the others must be too.
        for (var i = 3; i <= 4; i++)
        {
            if (context.Contents(i) is { ElementType: not ElementType.Int64 } other)
            {
                context.ReplaceInput(i, OnnxTensor.FromInt64s("", other.Dims, other.Int64s));
            }
        }
    }

    /// <summary>A Slice's starts, ends, axes and steps as numbers.</summary>
    private sealed record Bounds(long[] Starts, long[] Ends, long[] Axes, long[] Steps)
    {
        public static Bounds? Read(Node node, long opset, Func<int, OnnxTensor?> contents)
        {
            long[]? starts, ends, axes, steps;
            if (opset < 10)
            {
                starts = node.GetInts("starts");
                ends = node.GetInts("ends");
                axes = node.GetInts("axes");
                steps = null;
            }
            else
            {
                starts = contents(1)?.Int64s;
                ends = contents(2)?.Int64s;
                axes = node.InputAt(3) is null ? null : contents(3)?.Int64s ?? [];
                steps = node.InputAt(4) is null ? null : contents(4)?.Int64s ?? [];
            }
            if (starts is null || ends is null || ends.Length != starts.Length) return null;
            axes ??= Enumerable.Range(0, starts.Length).Select(i => (long)i).ToArray();
            steps ??= Enumerable.Repeat(1L, starts.Length).ToArray();
            return axes.Length == starts.Length && steps.Length == starts.Length ? new Bounds(starts, ends, axes, steps) : null;
        }

        /// <summary>The entry that slices axis 1, or -1.</summary>
        public int ChannelEntry(int rank) => Array.FindIndex(Axes, a => Rules.Axes.Normalize(a, rank) == 1);

        /// <summary>The first channel and the count of a step-1 slice, clamped like numpy.</summary>
        public static (int Start, int Count) Range(int channels, long start, long end)
        {
            start = start < 0 ? Math.Max(start, -channels) + channels : Math.Min(start, channels);
            end = end < 0 ? Math.Max(end, -channels) + channels : Math.Min(end, channels);
            return ((int)start, (int)Math.Max(0, end - start));
        }
    }
}
