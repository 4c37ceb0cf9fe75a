namespace Acp.Onnx.Channels;

/// <summary>One group a value carries channels of, and which channels.</summary>
/// <param name="Group">The group.</param>
/// <param name="Member">The value's entry in it.</param>
public sealed record ChannelMembership(ChannelGroup Group, ChannelMember Member);
