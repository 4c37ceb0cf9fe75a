using Acp.Pruning.Search;

namespace Acp.Pruning.Pipeline;

/// <summary>The search stage: how many channels each group keeps, and which.</summary>
/// <remarks>One implementation per way of choosing a structure; <see cref="Strategies"/> picks it from the options.</remarks>
internal interface IStructureSearch
{
    /// <summary>Chooses the structure of <paramref name="run"/> within its budget.</summary>
    StructureChoice Find(PruningRun run);

    /// <summary>
    /// The expected time of the stages <see cref="Find"/> runs, from rates measured on a sample (one entry or more per
    /// stage; parts of one stage are summed). A search that does not say runs without an estimate of its stages.
    /// </summary>
    IEnumerable<StageEstimate> Estimate(PruningRun run, WorkRates rates) => [];
}

/// <summary>A chosen structure and how it was found.</summary>
/// <param name="Widths">Kept width per searched group, in group order.</param>
/// <param name="Ranking">Which channels a width keeps.</param>
/// <param name="Epsilon">DBSCAN's ε of a clustering search, or null.</param>
/// <param name="Ratio">The uniform fraction removed from every group, or null.</param>
/// <param name="History">The swarm's cycles (empty without a swarm).</param>
/// <param name="Candidates">Every scored candidate (empty without a swarm).</param>
/// <param name="Finalists">The finalists' scores (empty without that stage).</param>
internal sealed record StructureChoice(int[] Widths, ChannelRanking Ranking, double? Epsilon, double? Ratio,
    IReadOnlyList<PsoCycle> History, IReadOnlyList<CandidateEvaluation> Candidates, IReadOnlyList<CandidateEvaluation> Finalists)
{
    /// <summary>
    /// Epochs of plain fine-tuning the chosen structure gets before it is measured and fine-tuned: the fitness of the
    /// paper's search, re-run on the winner because the code retrains gbest from the weights of its fitness fine-tune.
    /// </summary>
    public int FitnessEpochs { get; init; }
}
