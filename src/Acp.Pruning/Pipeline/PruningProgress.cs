namespace Acp.Pruning.Pipeline;

/// <summary>The stages of a pruning run, in order.</summary>
public enum PruningStage
{
    /// <summary>
    /// A small sample is timed (a batch of inference on the original and on a pruned network, a few training steps),
    /// and the time of every later stage is estimated from it (<see cref="PruningProgress.Estimates"/>). Only run when
    /// someone listens to the progress.
    /// </summary>
    Estimating,

    /// <summary>
    /// The original network is measured: its validation accuracy and (for the ACP strategies) its feature maps,
    /// averaged over the calibration images.
    /// </summary>
    Calibrating,

    /// <summary>Channels are clustered and ε is chosen (or the uniform baseline width is found).</summary>
    Clustering,

    /// <summary>The particle swarm scores candidate structures.</summary>
    Searching,

    /// <summary>The swarm's best structures and the uniform one are trained a few steps and scored again.</summary>
    Finalists,

    /// <summary>The chosen structure is built (cut, re-fitted, scored) and fine-tuned.</summary>
    FineTuning,

    /// <summary>The pruned model is written out and scored on the validation split.</summary>
    Exporting,
}

/// <summary>The expected time of one stage, estimated before the run's work starts.</summary>
/// <param name="Stage">The stage.</param>
/// <param name="Time">The expected wall time on this machine (from rates measured on a sample of the run's own data).</param>
/// <param name="Basis">What the estimate counts, for people (e.g. "10 candidates × 1.9 s").</param>
public sealed record StageEstimate(PruningStage Stage, TimeSpan Time, string Basis);

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

    /// <summary>
    /// Images through a network per second in this stage so far (forward passes, training steps and BatchNormalization
    /// re-fits alike; a training step's image counts once), or null when nothing has been timed yet.
    /// </summary>
    public double? ImagesPerSecond { get; init; }

    /// <summary>
    /// In the <see cref="PruningStage.Estimating"/> stage's last report: the expected time of every later stage the run
    /// will go through, in order (one entry per stage), before any of them starts. Null in every other report.
    /// </summary>
    public IReadOnlyList<StageEstimate>? Estimates { get; init; }
}
