using Acp.Onnx.Channels;

namespace Acp.Pruning;

/// <summary>
/// Keeps a random subset of each group, the same for the same seed and group: the baseline any importance
/// criterion has to beat, and a source of arbitrary keep-sets for tests.
/// </summary>
/// <param name="seed">The seed; each group draws from its own generator seeded from it and the group id.</param>
public sealed class RandomStrategy(int seed) : ChannelSelectionStrategy
{
    /// <summary>The seed.</summary>
    public int Seed { get; } = seed;

    /// <inheritdoc/>
    public override string Name => "random";

    /// <inheritdoc/>
    protected override IReadOnlyList<int> Rank(ChannelAnalysis analysis, ChannelGroup group)
    {
        // One generator per group, so a group's choice does not depend on how many groups came before it.
        var random = new Random(unchecked(Seed * 1_000_003 + group.Id));
        var order = Enumerable.Range(0, group.Width).ToArray();
        random.Shuffle(order);
        return order;
    }
}
