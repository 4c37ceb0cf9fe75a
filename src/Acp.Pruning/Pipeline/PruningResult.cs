using Acp.Onnx.Ir;
using Acp.Pruning.Search;

namespace Acp.Pruning.Pipeline;

/// <summary>One prunable group's width before and after.</summary>
/// <param name="GroupId">The group's id in the channel analysis of the original model.</param>
/// <param name="Name">A readable name: the first producing node's name (or its output's).</param>
/// <param name="OriginalWidth">Channels before.</param>
/// <param name="PrunedWidth">Channels kept.</param>
public sealed record GroupWidth(int GroupId, string Name, int OriginalWidth, int PrunedWidth);

/// <summary>Which score of a structure a <see cref="CandidateEvaluation"/> holds.</summary>
public enum CandidateStage
{
    /// <summary>
    /// The swarm's fitness on the fitness images: inherited weights and re-fitted BatchNormalization, after
    /// <see cref="PruningOptions.FitnessSteps"/> distilled steps when set, or after
    /// <see cref="PruningOptions.PaperFitnessEpochs"/> of fine-tuning for <see cref="PruningStrategy.AcpPaper"/>.
    /// </summary>
    Swarm,

    /// <summary>The finalists' score (a few distilled steps first, then the whole validation split).</summary>
    Finalist,

    /// <summary>An AIP step's structure right after its cut (inherited weights, re-fitted BatchNormalization), on the whole validation split.</summary>
    AipCut,

    /// <summary>An AIP step's structure after its recovery training, on the whole validation split.</summary>
    AipRecovered,
}

/// <summary>One scored candidate structure, as logged.</summary>
/// <param name="Index">Order of evaluation (0-based).</param>
/// <param name="Widths">Kept width per searched group, in group order.</param>
/// <param name="Macs">Its MACs.</param>
/// <param name="Params">Its parameters.</param>
/// <param name="Correct">Validation images it classified correctly.</param>
/// <param name="Images">Validation images scored.</param>
/// <param name="Seconds">Wall time of the evaluation.</param>
public sealed record CandidateEvaluation(int Index, int[] Widths, long Macs, long Params, int Correct, int Images, double Seconds)
{
    /// <summary>Validation top-1 accuracy, the fitness.</summary>
    public double Accuracy => Images == 0 ? 0 : (double)Correct / Images;

    /// <summary>Which score this is; logs written before finalists existed hold swarm scores only.</summary>
    [System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<CandidateStage>))]
    public CandidateStage Stage { get; init; }
}

/// <summary>Cost and accuracy of one model of the run.</summary>
/// <param name="Params">Parameters.</param>
/// <param name="Macs">Multiply-accumulates of one image.</param>
/// <param name="ValidationAccuracy">Top-1 on the validation split (null when not measured).</param>
public sealed record ModelMeasure(long Params, long Macs, double? ValidationAccuracy);

/// <summary>The outcome of <see cref="PruningPipeline.Run"/>.</summary>
public sealed record PruningResult
{
    /// <summary>The pruned, fine-tuned model, physically smaller.</summary>
    public required OnnxModel Model { get; init; }

    /// <summary>The strategy that produced it.</summary>
    public required PruningStrategy Strategy { get; init; }

    /// <summary>The original model.</summary>
    public required ModelMeasure Original { get; init; }

    /// <summary>The pruned model before fine-tuning (BN recalibrated).</summary>
    public required ModelMeasure PrunedBeforeFineTuning { get; init; }

    /// <summary>The pruned model after fine-tuning.</summary>
    public required ModelMeasure Pruned { get; init; }

    /// <summary>Per prunable group, its widths.</summary>
    public required IReadOnlyList<GroupWidth> Widths { get; init; }

    /// <summary>The kept channels per group id (what surgery removed is the rest).</summary>
    public required IReadOnlyDictionary<int, int[]> Keep { get; init; }

    /// <summary>The chosen DBSCAN ε (ACP strategies) or null.</summary>
    public double? Epsilon { get; init; }

    /// <summary>The uniform fraction removed per group (baselines and soft pruning) or null.</summary>
    public double? UniformRatio { get; init; }

    /// <summary>Swarm convergence, one entry per cycle (empty for strategies without a search).</summary>
    public IReadOnlyList<PsoCycle> SearchHistory { get; init; } = [];

    /// <summary>Every scored candidate, in evaluation order (empty for strategies without a search).</summary>
    public IReadOnlyList<CandidateEvaluation> Candidates { get; init; } = [];

    /// <summary>
    /// The finalists scored again after the swarm (<see cref="PruningOptions.Finalists"/>), the swarm's best first and
    /// the uniform structure last; the chosen structure is the first of highest accuracy. Empty without that stage.
    /// </summary>
    public IReadOnlyList<CandidateEvaluation> Finalists { get; init; } = [];

    /// <summary>Fine-tuning: the training loss per epoch.</summary>
    public IReadOnlyList<double> EpochLosses { get; init; } = [];

    /// <summary>Wall time of calibration, clustering and search.</summary>
    public TimeSpan SearchTime { get; init; }

    /// <summary>Wall time of the whole run.</summary>
    public TimeSpan TotalTime { get; init; }
}
