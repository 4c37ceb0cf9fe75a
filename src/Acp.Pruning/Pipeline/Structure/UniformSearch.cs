namespace Acp.Pruning.Pipeline;

/// <summary>
/// The baselines' structure: every group loses the same fraction, the smallest that fits the budget
/// (<see cref="Budget.Uniform"/>), keeping the channels <paramref name="rank"/> puts first.
/// </summary>
/// <param name="rank">The channel ranking of the baseline (L1 norms, or a seeded random order).</param>
internal sealed class UniformSearch(Func<PruningRun, ChannelRanking> rank) : IStructureSearch
{
    public StructureChoice Find(PruningRun run)
    {
        var (ratio, widths) = run.Budget.Uniform(run.Options.RoundTo);
        return new StructureChoice(widths, rank(run), null, ratio, [], [], []);
    }
}
