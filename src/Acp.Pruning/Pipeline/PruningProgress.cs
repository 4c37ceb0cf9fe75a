namespace Acp.Pruning.Pipeline;

/// <summary>The stages of a pruning run, in order.</summary>
public enum PruningStage
{
    /// <summary>Calibration images run through the original network; feature maps are averaged.</summary>
    Calibrating,

    /// <summary>Channels are clustered and ε is chosen (or the uniform baseline width is found).</summary>
    Clustering,

    /// <summary>The particle swarm scores candidate structures.</summary>
    Searching,

    /// <summary>The swarm's best structures and the uniform one are trained a few steps and scored again.</summary>
    Finalists,

    /// <summary>The chosen structure is fine-tuned.</summary>
    FineTuning,

    /// <summary>The pruned model is written out.</summary>
    Exporting,
}

/// <summary>One progress report of a pruning run.</summary>
/// <param name="Stage">The stage.</param>
/// <param name="Completed">Units done in this stage (images, evaluations, batches).</param>
/// <param name="Total">Units in this stage; 0 when unknown.</param>
/// <param name="Message">What is happening, for people.</param>
/// <param name="Cycle">While searching: the swarm cycle (0 = the initial population).</param>
/// <param name="Epoch">While fine-tuning: the 0-based epoch.</param>
/// <param name="BestFitness">While searching: the best validation accuracy found so far.</param>
public sealed record PruningProgress(
    PruningStage Stage, long Completed, long Total, string Message, int? Cycle = null, int? Epoch = null, double? BestFitness = null)
{
    /// <summary>Completed / Total, or null when the total is unknown.</summary>
    public double? Fraction => Total > 0 ? Math.Clamp((double)Completed / Total, 0, 1) : null;
}
