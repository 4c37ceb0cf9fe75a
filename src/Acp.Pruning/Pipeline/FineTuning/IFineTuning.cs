using Acp.Onnx.Ir;

namespace Acp.Pruning.Pipeline;

/// <summary>The build and fine-tune stages: from a chosen structure to the trained, pruned graph.</summary>
/// <remarks>One implementation per way of fine-tuning; <see cref="Strategies"/> picks it from the options.</remarks>
internal interface IFineTuning
{
    /// <summary>Build: the candidate fine-tuning starts from, and the structure's accuracy before fine-tuning.</summary>
    StartingPoint Build(PruningRun run, StructureChoice structure);

    /// <summary>Fine-tune <paramref name="start"/> (taken over) and hand the trained, pruned graph over.</summary>
    FineTuned Train(PruningRun run, StructureChoice structure, StartingPoint start);

    /// <summary>
    /// The expected time of <see cref="Build"/> and <see cref="Train"/> together (the <see cref="PruningStage.FineTuning"/>
    /// stage), from rates measured on a sample; a fine-tuning that does not say runs without an estimate.
    /// </summary>
    IEnumerable<StageEstimate> Estimate(PruningRun run, WorkRates rates) => [];
}

/// <summary>Where fine-tuning starts.</summary>
/// <param name="Candidate">The graph and network to train (owned by the fine-tuning from here on).</param>
/// <param name="AccuracyBefore">Validation accuracy of the pruned structure before fine-tuning (inherited weights, re-fitted BatchNormalization).</param>
internal sealed record StartingPoint(Candidate Candidate, double AccuracyBefore);

/// <summary>The result of fine-tuning.</summary>
/// <param name="Model">The trained, pruned model: the one graph handed over from the network.</param>
/// <param name="Keep">Kept channels per group id of the original model's analysis.</param>
/// <param name="Losses">Each epoch's mean training loss.</param>
internal sealed record FineTuned(OnnxModel Model, IReadOnlyDictionary<int, int[]> Keep, double[] Losses)
{
    /// <summary>Structures scored while fine-tuning prunes iteratively (AIP's steps), for the report's accuracy-against-MACs chart.</summary>
    public IReadOnlyList<CandidateEvaluation> Iterations { get; init; } = [];
}
