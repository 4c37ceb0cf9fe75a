using System.Text;

namespace Acp.Onnx.Channels;

/// <summary>
/// A set of channels that must be removed together: channel <c>i</c> of the group is one channel of every
/// member value (or several, or a block of positions after a Flatten). Its producers' filters, its consumers'
/// input channels and every per-channel constant in between are removed along with it.
/// </summary>
/// <remarks>
/// Example: <c>Conv(3→4) → BatchNormalization → Relu → Conv(4→2)</c> has one group of width 4 whose members are the
/// first Conv's, BatchNormalization's and Relu's outputs, channels [0,4) each; the first Conv is its producer and
/// the second its consumer. Group channel <c>i</c> is filter <c>i</c> of the first Conv, BN parameter <c>i</c> and
/// input channel <c>i</c> of the second Conv.
/// </remarks>
public sealed class ChannelGroup
{
    internal ChannelGroup(int id, int width, IReadOnlyList<ChannelMember> members, IReadOnlyList<ChannelProducer> producers,
        IReadOnlyList<ChannelConsumer> consumers, IReadOnlyList<ChannelFence> fences)
    {
        Id = id;
        Width = width;
        Members = members;
        Producers = producers;
        Consumers = consumers;
        Fences = fences;
    }

    /// <summary>The group's number, from 0 in graph order; keep-sets are keyed by it.</summary>
    public int Id { get; }

    /// <summary>How many channels the group has: keep-indices run over 0..Width-1.</summary>
    public int Width { get; }

    /// <summary>True when nothing fences the group, so some of its channels may be removed.</summary>
    public bool IsPrunable => Fences.Count == 0;

    /// <summary>Why the group cannot be pruned; empty when it can.</summary>
    public IReadOnlyList<ChannelFence> Fences { get; }

    /// <summary>Every value that carries the group's channels, in graph order.</summary>
    public IReadOnlyList<ChannelMember> Members { get; }

    /// <summary>The Conv, Gemm and MatMul nodes whose output channels the group's channels are.</summary>
    public IReadOnlyList<ChannelProducer> Producers { get; }

    /// <summary>The Conv, Gemm and MatMul nodes whose input channels follow the group's channels.</summary>
    public IReadOnlyList<ChannelConsumer> Consumers { get; }

    /// <summary>The member entry of <paramref name="value"/>, or null when the value carries none of the group's channels.</summary>
    public ChannelMember? MemberOf(string value) => Members.FirstOrDefault(m => m.Value == value);

    /// <summary>One line, e.g. <c>group 3: 64 channels, prunable (2 producers, 5 members, 3 consumers)</c>.</summary>
    public override string ToString() => IsPrunable
        ? $"group {Id}: {Width} channels, prunable ({Producers.Count} producers, {Members.Count} members, {Consumers.Count} consumers)"
        : $"group {Id}: {Width} channels, fenced ({string.Join("; ", Fences.Take(2))}{(Fences.Count > 2 ? $"; and {Fences.Count - 2} more" : "")})";

    /// <summary>Several lines: the summary, then producers, members with their channel ranges, consumers and fences.</summary>
    public string Describe()
    {
        var text = new StringBuilder();
        text.Append("group ").Append(Id).Append(": ").Append(Width).Append(" channels, ").AppendLine(IsPrunable ? "prunable" : "fenced");
        foreach (var fence in Fences) text.Append("  fence     ").AppendLine(fence.ToString());
        foreach (var producer in Producers) text.Append("  producer  ").Append(producer).Append(" -> ").AppendLine(producer.Output);
        foreach (var member in Members) text.Append("  member    ").AppendLine(member.ToString());
        foreach (var consumer in Consumers) text.Append("  consumer  ").Append(consumer).Append(" <- ").AppendLine(consumer.Input);
        return text.ToString();
    }
}
