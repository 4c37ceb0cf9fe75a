using Acp.Engine.Data;
using Acp.Onnx.Ir;
using Acp.Pruning.Pipeline;
using Acp.Pruning.Search;

namespace Acp.MLNet;

/// <summary>
/// Everything <see cref="TransformsCatalog.PruneChannels(PruneChannelsOptions)"/> can be told (ML.NET's options-class
/// overload). Set the model (<see cref="ModelPath"/> or <see cref="Model"/>) and a budget (<see cref="TargetFlops"/>
/// and/or <see cref="TargetParams"/>); everything else defaults to the recommended ACP run.
/// </summary>
/// <remarks>
/// Every pruning setting mirrors the <see cref="PruningOptions"/> property of the same name (<see cref="TargetFlops"/>
/// mirrors <see cref="PruningOptions.TargetMacs"/>) and takes its default from there, so the two cannot drift apart.
/// The options are read once, when <c>PruneChannels</c> is called: changing them afterwards does not change the estimator.
/// </remarks>
public sealed class PruneChannelsOptions
{
    // The single source of every default below.
    private static readonly PruningOptions Defaults = new();

    /// <summary>The .onnx file of the trained model; set this or <see cref="Model"/>.</summary>
    public string? ModelPath { get; set; }

    /// <summary>The trained model, already loaded (not modified); set this or <see cref="ModelPath"/>.</summary>
    public OnnxModel? Model { get; set; }

    /// <summary>
    /// The pruned model has at most this fraction of the original FLOPs (0.5 = half). FLOPs are 2 × MACs for the
    /// layers that matter, so the fraction is the MAC fraction; null = no FLOPs budget.
    /// </summary>
    public double? TargetFlops { get; set; } = Defaults.TargetMacs;

    /// <summary>The pruned model has at most this fraction of the original parameters; null = no parameter budget.</summary>
    public double? TargetParams { get; set; } = Defaults.TargetParams;

    /// <summary>How the pruned structure is chosen.</summary>
    public PruningStrategy Strategy { get; set; } = Defaults.Strategy;

    /// <summary>Epochs of fine-tuning of the chosen structure.</summary>
    public int Epochs { get; set; } = Defaults.Epochs;

    /// <summary>
    /// The seed of every random choice; null = the <see cref="AcpContext"/>'s seed, or <see cref="PruningOptions.Seed"/>'s
    /// default when the context has none. The same seed gives the same model bytes.
    /// </summary>
    public int? Seed { get; set; }

    /// <summary>
    /// How pixels become model input; null = the training data's (<see cref="ImageDataView.Normalization"/>), else the
    /// model's metadata (<see cref="ModelMetadataKeys"/>), else [0, 1] scaling.
    /// </summary>
    public ChannelNormalization? Normalization { get; set; } = Defaults.Normalization;

    /// <summary>Progress of every stage, reported on the thread that calls <c>Fit</c>.</summary>
    public IProgress<PruningProgress>? Progress { get; set; }

    /// <inheritdoc cref="PruningOptions.RoundTo"/>
    public int RoundTo { get; set; } = Defaults.RoundTo;

    /// <inheritdoc cref="PruningOptions.ValidationImages"/>
    public int ValidationImages { get; set; } = Defaults.ValidationImages;

    /// <inheritdoc cref="PruningOptions.ValidationFromTail"/>
    public bool ValidationFromTail { get; set; } = Defaults.ValidationFromTail;

    /// <inheritdoc cref="PruningOptions.FitnessImages"/>
    public int? FitnessImages { get; set; } = Defaults.FitnessImages;

    /// <inheritdoc cref="PruningOptions.CalibrationImages"/>
    public int CalibrationImages { get; set; } = Defaults.CalibrationImages;

    /// <inheritdoc cref="PruningOptions.Tap"/>
    public FeatureTap Tap { get; set; } = Defaults.Tap;

    /// <inheritdoc cref="PruningOptions.MinPoints"/>
    public int MinPoints { get; set; } = Defaults.MinPoints;

    /// <inheritdoc cref="PruningOptions.Epsilon"/>
    public double? Epsilon { get; set; } = Defaults.Epsilon;

    /// <inheritdoc cref="PruningOptions.RecalibrationImages"/>
    public int RecalibrationImages { get; set; } = Defaults.RecalibrationImages;

    /// <inheritdoc cref="PruningOptions.FitnessSteps"/>
    public int FitnessSteps { get; set; } = Defaults.FitnessSteps;

    /// <inheritdoc cref="PruningOptions.FitnessTuningBatchSize"/>
    public int FitnessTuningBatchSize { get; set; } = Defaults.FitnessTuningBatchSize;

    /// <inheritdoc cref="PruningOptions.CapacityFloor"/>
    public double CapacityFloor { get; set; } = Defaults.CapacityFloor;

    /// <inheritdoc cref="PruningOptions.Finalists"/>
    public int Finalists { get; set; } = Defaults.Finalists;

    /// <inheritdoc cref="PruningOptions.FinalistSteps"/>
    public int FinalistSteps { get; set; } = Defaults.FinalistSteps;

    /// <inheritdoc cref="PruningOptions.Swarm"/>
    public PsoOptions Swarm { get; set; } = Defaults.Swarm;

    /// <inheritdoc cref="PruningOptions.PaperFitnessEpochs"/>
    public int PaperFitnessEpochs { get; set; } = Defaults.PaperFitnessEpochs;

    /// <inheritdoc cref="PruningOptions.BatchSize"/>
    public int BatchSize { get; set; } = Defaults.BatchSize;

    /// <inheritdoc cref="PruningOptions.LearningRate"/>
    public float LearningRate { get; set; } = Defaults.LearningRate;

    /// <inheritdoc cref="PruningOptions.WeightDecay"/>
    public float WeightDecay { get; set; } = Defaults.WeightDecay;

    /// <inheritdoc cref="PruningOptions.Augmentation"/>
    public Augmentation Augmentation { get; set; } = Defaults.Augmentation;

    /// <inheritdoc cref="PruningOptions.DistillationWeight"/>
    public float DistillationWeight { get; set; } = Defaults.DistillationWeight;

    /// <inheritdoc cref="PruningOptions.DistillationTemperature"/>
    public float DistillationTemperature { get; set; } = Defaults.DistillationTemperature;

    /// <inheritdoc cref="PruningOptions.RunDirectory"/>
    public string? RunDirectory { get; set; } = Defaults.RunDirectory;

    /// <inheritdoc cref="PruningOptions.Resume"/>
    public bool Resume { get; set; } = Defaults.Resume;

    /// <summary>The pipeline's options these stand for, with the seed and normalisation resolved by the caller.</summary>
    internal PruningOptions ToPruningOptions(int seed, ChannelNormalization? normalization) => new()
    {
        Strategy = Strategy,
        TargetMacs = TargetFlops,
        TargetParams = TargetParams,
        RoundTo = RoundTo,
        Seed = seed,
        Normalization = normalization,
        ValidationImages = ValidationImages,
        ValidationFromTail = ValidationFromTail,
        FitnessImages = FitnessImages,
        CalibrationImages = CalibrationImages,
        Tap = Tap,
        MinPoints = MinPoints,
        Epsilon = Epsilon,
        RecalibrationImages = RecalibrationImages,
        FitnessSteps = FitnessSteps,
        FitnessTuningBatchSize = FitnessTuningBatchSize,
        CapacityFloor = CapacityFloor,
        Finalists = Finalists,
        FinalistSteps = FinalistSteps,
        Swarm = Swarm,
        PaperFitnessEpochs = PaperFitnessEpochs,
        Epochs = Epochs,
        BatchSize = BatchSize,
        LearningRate = LearningRate,
        WeightDecay = WeightDecay,
        Augmentation = Augmentation,
        DistillationWeight = DistillationWeight,
        DistillationTemperature = DistillationTemperature,
        RunDirectory = RunDirectory,
        Resume = Resume,
    };
}
