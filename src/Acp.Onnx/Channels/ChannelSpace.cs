using Acp.Onnx.Ir;

namespace Acp.Onnx.Channels;

/// <summary>A fence placed on a range of a value's channels, before groups exist.</summary>
internal sealed record FenceRecord(TrackedValue Value, int Start, int Count, string Reason, Node? Node);

/// <summary>
/// Every channel of every tracked value as one element, and what the rules found about them. Two union-finds run
/// side by side: <see cref="Identity"/> joins channels that are the same channel (a Relu's input and output channel
/// c), so a group's width is its number of identity classes; <see cref="Groups"/> also joins all channels a single
/// producer creates, so a group is everything one set of filters reaches.
/// </summary>
internal sealed class ChannelSpace
{
    /// <summary>
    /// More elements than this (about 17 bytes each) and later values are not tracked, so what touches them is
    /// fenced. Real CNNs need far fewer: DenseNet-121 has about 0.3 million, a VGG-16 Flatten 25,088.
    /// </summary>
    public const int MaxElements = 8 << 20;

    private readonly Dictionary<string, TrackedValue> _values = new(StringComparer.Ordinal);
    private readonly List<TrackedValue> _ordered = [];

    public ChannelSpace(IEnumerable<(string Name, long[] Shape)> candidates)
    {
        var next = 0;
        foreach (var (name, shape) in candidates)
        {
            if (_values.ContainsKey(name) || shape.Length < 2 || shape[1] < 1 || shape[1] > MaxElements - next) continue;
            var value = new TrackedValue(name, next, (int)shape[1], shape);
            _values[name] = value;
            _ordered.Add(value);
            next += value.Channels;
        }
        ElementCount = next;
        Identity = new DisjointSets(next);
        Groups = new DisjointSets(next);
        IsOrigin = new bool[next];
    }

    /// <summary>The tracked values in allocation (graph) order.</summary>
    public IReadOnlyList<TrackedValue> Values => _ordered;

    public int ElementCount { get; }

    public DisjointSets Identity { get; }

    public DisjointSets Groups { get; }

    /// <summary>Elements whose channels something creates (a producer, a graph input, a fenced operator's output).</summary>
    public bool[] IsOrigin { get; }

    public List<FenceRecord> Fences { get; } = [];

    public List<ChannelProducer> Producers { get; } = [];

    public List<ChannelConsumer> Consumers { get; } = [];

    public List<ChannelBinding> Bindings { get; } = [];

    /// <summary>The tracked value called <paramref name="name"/>, or null.</summary>
    public TrackedValue? Find(string? name) => name is not null && _values.TryGetValue(name, out var value) ? value : null;

    /// <summary>Channel <paramref name="a"/> of <paramref name="x"/> is channel <paramref name="b"/> of <paramref name="y"/>.</summary>
    public void Link(TrackedValue x, int a, TrackedValue y, int b)
    {
        Identity.Union(x.Base + a, y.Base + b);
        Groups.Union(x.Base + a, y.Base + b);
    }

    /// <summary>Channels [start, start+count) of <paramref name="value"/> are created here, all by the same source.</summary>
    public void Origin(TrackedValue value, int start, int count)
    {
        for (var i = 0; i < count; i++)
        {
            IsOrigin[value.Base + start + i] = true;
            Groups.Union(value.Base + start, value.Base + start + i);
        }
    }
}
