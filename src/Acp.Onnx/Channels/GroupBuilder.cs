using Acp.Onnx.Analysis;
using Acp.Onnx.Ir;

namespace Acp.Onnx.Channels;

/// <summary>
/// Turns the union-finds of a finished <see cref="ChannelSpace"/> into groups: one per component of
/// <see cref="ChannelSpace.Groups"/>, numbered in graph order; its channels are the identity classes inside it,
/// numbered by where each first appears (so a producer's filter order is the group's order).
/// </summary>
internal static class GroupBuilder
{
    public static ChannelAnalysis Build(OnnxModel model, ShapeInferenceResult shapes, ConstantResolver constants, ChannelSpace space)
    {
        var count = space.ElementCount;
        var groupOf = new int[count];
        var indexOf = new int[count];
        var groupIds = new Dictionary<int, int>();
        var classIndex = new Dictionary<int, int>();
        var widths = new List<int>();
        for (var e = 0; e < count; e++)
        {
            var root = space.Groups.Find(e);
            if (!groupIds.TryGetValue(root, out var id))
            {
                id = groupIds.Count;
                groupIds[root] = id;
                widths.Add(0);
            }
            var identity = space.Identity.Find(e);
            if (!classIndex.TryGetValue(identity, out var ordinal))
            {
                ordinal = widths[id]++;
                classIndex[identity] = ordinal;
            }
            groupOf[e] = id;
            indexOf[e] = ordinal;
        }

        var parts = widths.Select(_ => new Parts()).ToArray();
        for (var e = 0; e < count; e++) parts[groupOf[e]].HasOrigin |= space.IsOrigin[e];
        foreach (var value in space.Values) AddMembers(value, groupOf, indexOf, widths, parts);
        foreach (var fence in space.Fences)
        {
            foreach (var id in GroupsOf(fence.Value, fence.Start, fence.Count, groupOf))
            {
                if (!parts[id].Fences.Any(f => f.Reason == fence.Reason && f.Node == fence.Node))
                {
                    parts[id].Fences.Add(new ChannelFence(fence.Reason, fence.Node, fence.Value.Name));
                }
            }
        }
        foreach (var producer in space.Producers)
        {
            var value = space.Find(producer.Output)!;
            parts[groupOf[value.Base]].Producers.Add(producer);
        }
        foreach (var consumer in space.Consumers)
        {
            var value = space.Find(consumer.Input)!;
            foreach (var id in GroupsOf(value, 0, value.Channels, groupOf)) parts[id].Consumers.Add(consumer);
        }

        var groups = new ChannelGroup[widths.Count];
        for (var id = 0; id < groups.Length; id++)
        {
            var p = parts[id];
            if (!p.HasOrigin)
            {
                // Defensive: every channel should come from a producer, a graph input or a fenced operator.
                p.Fences.Add(new ChannelFence("the analysis found no source for these channels", null, p.Members[0].Member.Value));
            }
            groups[id] = new ChannelGroup(id, widths[id], p.Members.Select(m => m.Member).ToArray(), p.Producers.Distinct().ToArray(),
                p.Consumers.Distinct().ToArray(), p.Fences.ToArray());
        }
        var memberships = new Dictionary<string, ChannelMembership[]>(StringComparer.Ordinal);
        foreach (var value in space.Values) memberships[value.Name] = [];
        for (var id = 0; id < groups.Length; id++)
        {
            foreach (var member in groups[id].Members)
            {
                memberships[member.Value] = [.. memberships[member.Value], new ChannelMembership(groups[id], member)];
            }
        }
        var channelCounts = space.Values.ToDictionary(v => v.Name, v => v.Channels, StringComparer.Ordinal);
        return new ChannelAnalysis(model, shapes, constants, groups, space.Bindings.ToArray(), memberships, channelCounts);
    }

    private static IEnumerable<int> GroupsOf(TrackedValue value, int start, int count, int[] groupOf) =>
        Enumerable.Range(value.Base + start, count).Select(e => groupOf[e]).Distinct();

    /// <summary>Adds one member per group that <paramref name="value"/>'s channels belong to, with its segments.</summary>
    private static void AddMembers(TrackedValue value, int[] groupOf, int[] indexOf, List<int> widths, Parts[] parts)
    {
        var runs = new Dictionary<int, SegmentBuilder>();
        for (var c = 0; c < value.Channels; c++)
        {
            var e = value.Base + c;
            if (!runs.TryGetValue(groupOf[e], out var builder)) runs[groupOf[e]] = builder = new SegmentBuilder();
            builder.Add(c, indexOf[e]);
        }
        foreach (var (id, builder) in runs)
        {
            parts[id].Members.Add((value.Base, new ChannelMember(value.Name, value.Channels, builder.Finish(), widths[id])));
        }
    }

    /// <summary>What one group collects before it is built.</summary>
    private sealed class Parts
    {
        public bool HasOrigin;
        public List<(int Order, ChannelMember Member)> Members { get; } = [];
        public List<ChannelProducer> Producers { get; } = [];
        public List<ChannelConsumer> Consumers { get; } = [];
        public List<ChannelFence> Fences { get; } = [];
    }

    /// <summary>
    /// Compresses a value's (channel, group channel) pairs, in channel order, into segments: equal consecutive group
    /// channels form a block, and blocks of equal length with consecutive group channels form one segment.
    /// </summary>
    private sealed class SegmentBuilder
    {
        private readonly List<ChannelSegment> _segments = [];
        private int _blockStart = -1;
        private int _blockIndex;
        private int _blockLength;

        public void Add(int channel, int groupIndex)
        {
            if (_blockStart >= 0 && groupIndex == _blockIndex && channel == _blockStart + _blockLength)
            {
                _blockLength++;
                return;
            }
            Flush();
            (_blockStart, _blockIndex, _blockLength) = (channel, groupIndex, 1);
        }

        public ChannelSegment[] Finish()
        {
            Flush();
            return _segments.ToArray();
        }

        private void Flush()
        {
            if (_blockStart < 0) return;
            if (_segments.Count > 0 && _segments[^1] is var last && last.End == _blockStart
                && last.GroupStart + last.Count == _blockIndex && last.Block == _blockLength)
            {
                _segments[^1] = last with { Count = last.Count + 1 };
            }
            else
            {
                _segments.Add(new ChannelSegment(_blockStart, _blockIndex, 1, _blockLength));
            }
            _blockStart = -1;
        }
    }
}
