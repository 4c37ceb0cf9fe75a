namespace Acp.Onnx.Channels;

/// <summary>
/// A value whose axis 1 the analysis follows: computed from a graph input at run time, of known shape and rank
/// at least 2. Its channels are the elements <c>Base .. Base + Channels - 1</c> of the channel space.
/// </summary>
internal sealed record TrackedValue(string Name, int Base, int Channels, long[] Shape);
