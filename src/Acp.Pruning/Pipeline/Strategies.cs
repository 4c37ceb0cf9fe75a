namespace Acp.Pruning.Pipeline;

/// <summary>
/// The registration of strategies: which structure search and which fine-tuning each <see cref="PruningStrategy"/>
/// runs. A new strategy is one search or fine-tuning type plus one line here (and its name in the enum).
/// </summary>
internal static class Strategies
{
    /// <summary>The search and the fine-tuning of <paramref name="strategy"/>.</summary>
    public static (IStructureSearch Search, IFineTuning FineTuning) For(PruningStrategy strategy) => strategy switch
    {
        PruningStrategy.Acp => (new AcpSearch(), new HardFineTuning()),
        PruningStrategy.AcpPaper => (new PaperAcpSearch(), new HardFineTuning()),
        PruningStrategy.L1 => (new UniformSearch(L1), new HardFineTuning()),
        PruningStrategy.Random => (new UniformSearch(Random), new HardFineTuning()),
        PruningStrategy.Sfp => (new UniformSearch(L1), SoftPruning.Sfp),
        PruningStrategy.Asrfp => (new UniformSearch(L1), SoftPruning.Asrfp),
        PruningStrategy.Ghfp => (new UniformSearch(L1), SoftPruning.Ghfp),
        PruningStrategy.Aip => (new UniformSearch(L1), new AipPruning()),
        _ => throw new ArgumentOutOfRangeException(nameof(strategy), strategy, "Unknown pruning strategy."),
    };

    /// <summary>
    /// The channel ranking of a structure-only prune (no data: no search, no fine-tuning), which only the baselines have.
    /// </summary>
    public static ChannelRanking? WithoutData(PruningStrategy strategy, Acp.Onnx.Channels.ChannelAnalysis analysis, int seed) => strategy switch
    {
        PruningStrategy.L1 => ChannelRanking.L1(analysis, analysis.PrunableGroups),
        PruningStrategy.Random => ChannelRanking.Random(analysis, analysis.PrunableGroups, seed),
        _ => null,
    };

    private static ChannelRanking L1(PruningRun run) => ChannelRanking.L1(run.Analysis, run.Groups);

    private static ChannelRanking Random(PruningRun run) => ChannelRanking.Random(run.Analysis, run.Groups, run.Options.Seed);
}
