using Acp.Engine.Backends;
using Acp.Data;
using Acp.Onnx.Channels;
using Acp.Pruning.Search;

namespace Acp.Pruning.Pipeline;

/// <summary>How the pruned structure is chosen.</summary>
public enum PruningStrategy
{
    /// <summary>
    /// ACP, made budget-aware: DBSCAN clustering of feature maps with ε bisected to the budget, a particle swarm around
    /// it whose fitness is the validation accuracy of the candidate with inherited weights (optionally after a few steps
    /// of distilled fine-tuning, <see cref="PruningOptions.FitnessSteps"/>) and re-fitted BatchNormalization, held (with
    /// a MAC budget alone) at or above a fraction of the uniform structure's parameters
    /// (<see cref="PruningOptions.CapacityFloor"/>), its best few re-scored with the uniform structure after a few
    /// trained steps (<see cref="PruningOptions.Finalists"/>), cluster representatives kept.
    /// </summary>
    Acp,

    /// <summary>
    /// ACP as the authors' code runs it: the code's PSO update, Vmax = 2 channels, fitness after a short fine-tune
    /// (<see cref="PruningOptions.PaperFitnessEpochs"/>), random channels kept inside a layer. The budget is still
    /// enforced (by repair), which the paper does not do.
    /// </summary>
    AcpPaper,

    /// <summary>Baseline: every prunable group loses the same fraction, keeping the filters of largest L1 norm.</summary>
    L1,

    /// <summary>Baseline: every prunable group loses the same fraction, keeping random channels.</summary>
    Random,

    /// <summary>
    /// Soft filter pruning (He et al. 2018) during fine-tuning: after every epoch the filters of smallest L2 norm are
    /// zeroed but keep training; the final zeroed set is removed.
    /// </summary>
    Sfp,

    /// <summary>Asymptotic softer pruning (Cai et al. 2020): pruned filters are decayed by a factor that shrinks to 0, at a pruning rate that grows to the target.</summary>
    Asrfp,

    /// <summary>Gradually hard filter pruning (Cai et al. 2021): soft early, a growing share of the pruned filters frozen at zero later.</summary>
    Ghfp,

    /// <summary>
    /// AIP, adversarial iterative pruning with knowledge transfer (Chang et al. 2021, arXiv 2108.13591): the original is
    /// the teacher; channels are cut in steps (<see cref="AipOptions.StepFraction"/> of every group at a time, by
    /// <see cref="AipOptions.Importance"/>) towards the baselines' uniform structure, each cut followed by
    /// <see cref="AipOptions.RecoverySteps"/> steps of training on cross-entropy, logit distillation, attention transfer
    /// on the stage outputs and an adversarial term from a small discriminator of the two networks' outputs; then
    /// <see cref="PruningOptions.Epochs"/> of fine-tuning with the same losses. The losses and the schedule beyond the
    /// paper's abstract are reconstructions (docs/aip.md).
    /// </summary>
    Aip,
}

/// <summary>Which channels an AIP step removes: those of least importance by this measure, taken on the current (recovered) weights.</summary>
public enum AipImportance
{
    /// <summary>The L1 norm of the producing filters (summed over a residual group's producers), as the l1 baseline.</summary>
    L1,

    /// <summary>|γ| of the BatchNormalization scales over the group's channels (network-slimming style); L1 for a group without BatchNormalization.</summary>
    BnScale,
}

/// <summary>
/// Settings of <see cref="PruningStrategy.Aip"/>. The paper gives none of them beyond its abstract; these defaults are
/// reconstructions (docs/aip.md), each an option.
/// </summary>
public sealed record AipOptions
{
    /// <summary>Fraction of every group's channels removed per step (the last step stops at the budget's uniform fraction).</summary>
    public double StepFraction { get; init; } = 0.1;

    /// <summary>Optimizer steps (batches of <see cref="PruningOptions.BatchSize"/>) of knowledge-transfer training after each cut.</summary>
    public int RecoverySteps { get; init; } = 200;

    /// <summary>Which channels a step removes.</summary>
    public AipImportance Importance { get; init; } = AipImportance.L1;

    /// <summary>
    /// Weight of attention transfer, summed over the stage outputs (the last feature map at each spatial size); per
    /// stage the term is the batch mean of ‖q(student) − q(teacher)‖², q the L2-normalised channel mean of squared
    /// activations. 0 = off. Logit distillation is weighted by <see cref="PruningOptions.DistillationWeight"/>.
    /// </summary>
    public float AttentionWeight { get; init; } = 1f;

    /// <summary>Weight of the adversarial term mean softplus(−D(student logits)); 0 = no discriminator.</summary>
    public float AdversarialWeight { get; init; } = 0.1f;

    /// <summary>Hidden units of the discriminator (logits → hidden ReLU layer → one logit).</summary>
    public int DiscriminatorWidth { get; init; } = 64;

    /// <summary>The discriminator's SGD learning rate (constant, momentum 0.9).</summary>
    public float DiscriminatorLearningRate { get; init; } = 0.01f;
}

/// <summary>Where a group's feature maps are read for clustering.</summary>
public enum FeatureTap
{
    /// <summary>The output of each convolution (or Gemm) producing the group, before BatchNormalization: the ACP code's choice.</summary>
    ProducerOutput,

    /// <summary>The values the group's consumers read (after BatchNormalization and activation).</summary>
    ConsumerInput,
}

/// <summary>Data augmentation of the fine-tuning batches.</summary>
/// <param name="CropPadding">Random crop after zero-padding by this many pixels (0 = none).</param>
/// <param name="HorizontalFlip">Random horizontal flips (leave off for digits or text).</param>
public sealed record Augmentation(int CropPadding = 0, bool HorizontalFlip = false)
{
    /// <summary>No augmentation.</summary>
    public static Augmentation None { get; } = new();
}

/// <summary>
/// Everything a pruning run can be told. The defaults are the recommended ACP run; only the budget
/// (<see cref="TargetFlops"/> and/or <see cref="TargetParams"/>) is usually set.
/// </summary>
public sealed record PruningOptions
{
    /// <summary>The strategy.</summary>
    public PruningStrategy Strategy { get; init; } = PruningStrategy.Acp;

    /// <summary>
    /// The pruned model has at most this fraction of the original FLOPs (0.5 = a 50 % cut); null = no FLOPs budget.
    /// FLOPs are counted as multiply-accumulates (2 FLOPs each), so the fraction is the same either way.
    /// </summary>
    public double? TargetFlops { get; init; }

    /// <summary>The pruned model has at most this fraction of the original parameters; null = no parameter budget.</summary>
    public double? TargetParams { get; init; }

    /// <summary>Kept widths are rounded to a multiple of this (1 = none); 8 keeps ONNX Runtime's kernels fast.</summary>
    public int RoundTo { get; init; } = ChannelRounding.DefaultMultiple;

    /// <summary>The seed of every random choice (splits, population, swarm, shuffles); same seed → same model bytes.</summary>
    public int Seed { get; init; }

    /// <summary>
    /// Structure-only pruning (no training data): every prunable group loses this fraction of its channels instead of
    /// the fraction the budget implies. Null = derive it from <see cref="TargetFlops"/>/<see cref="TargetParams"/>.
    /// Only for <see cref="PruningStrategy.L1"/> and <see cref="PruningStrategy.Random"/> without data.
    /// </summary>
    public double? Ratio { get; init; }

    /// <summary>
    /// Per-channel normalisation applied to byte images after scaling them to [0, 1]; null = the model's metadata
    /// (<see cref="ModelDefaults"/>), else scaling only. Ignored for data sets of ready model input (an ML.NET feature
    /// column), which are normalised already.
    /// </summary>
    public ChannelNormalization? Normalization { get; init; }

    /// <summary>
    /// Training images held out as the validation split that scores candidates (never trained on); null = the last N
    /// when the model's metadata says it never saw them (<see cref="ModelDefaults.HeldOutTail"/>), else
    /// <see cref="DefaultValidationImages"/>.
    /// </summary>
    public int? ValidationImages { get; init; }

    /// <summary>The validation split's size when neither the options nor the model name one.</summary>
    public const int DefaultValidationImages = 5000;

    /// <summary>
    /// Take the validation images from the end of the training split instead of a seeded, class-stratified draw: for
    /// models trained without those images (as the shipped Fashion-MNIST model is), so the search scores unseen data.
    /// Set automatically when <see cref="ValidationImages"/> is null and the model's metadata names such a tail.
    /// </summary>
    public bool ValidationFromTail { get; init; }

    /// <summary>Images the candidates' fitness is measured on (the first of the validation split); null = all of it.</summary>
    public int? FitnessImages { get; init; } = 2000;

    /// <summary>Calibration images whose mean feature maps are clustered (ACP: 200).</summary>
    public int CalibrationImages { get; init; } = 200;

    /// <summary>Where feature maps are read.</summary>
    public FeatureTap Tap { get; init; } = FeatureTap.ProducerOutput;

    /// <summary>DBSCAN's minPts (ACP: 5).</summary>
    public int MinPoints { get; init; } = 5;

    /// <summary>A fixed DBSCAN ε instead of bisecting it to the budget (the paper's way); the budget is then met by repair.</summary>
    public double? Epsilon { get; init; }

    /// <summary>Training images whose statistics re-fit every candidate's BatchNormalization before it is scored.</summary>
    public int RecalibrationImages { get; init; } = 512;

    /// <summary>
    /// Optimizer steps of distilled fine-tuning (batches of <see cref="FitnessTuningBatchSize"/> training images, constant
    /// <see cref="LearningRate"/>) each candidate gets before its BatchNormalization is re-fitted and it is scored;
    /// 0 (the default) = score the inherited weights after re-fitting only. At −70 % MACs, 25 steps ranked structures
    /// closer to their fine-tuned accuracy (10 did not), and 20 made a candidate 2–3× as costly to score
    /// (docs/benchmarks.md). Ignored by
    /// <see cref="PruningStrategy.AcpPaper"/>, whose fitness is <see cref="PaperFitnessEpochs"/>.
    /// </summary>
    public int FitnessSteps { get; init; }

    /// <summary>Images per step of <see cref="FitnessSteps"/> and <see cref="FinalistSteps"/>.</summary>
    public int FitnessTuningBatchSize { get; init; } = 64;

    /// <summary>
    /// <see cref="PruningStrategy.Acp"/> with a MAC budget alone: the swarm scores only structures with at least this
    /// fraction of the parameters of the budget's uniform structure (others get fitness −∞ without being evaluated),
    /// that uniform structure is one of its initial particles, and an over-budget particle sheds the MACs that cost the
    /// fewest parameters. 0 turns the floor off; 1 keeps the search at or above uniform's capacity. Why: the swarm's
    /// fitness (no training) favours structures that keep the original's function with few parameters, and at deep
    /// cuts those recover less in fine-tuning; at −70 % MACs the structures that lost to uniform kept 0.65–0.71× its
    /// parameters, while at −50 % the best ones kept 0.79–0.90× and a floor of 1 cost 0.2–0.3 pt (docs/benchmarks.md).
    /// The default 0.75 lies between. Ignored by <see cref="PruningStrategy.AcpPaper"/>, by a one-particle
    /// swarm and when <see cref="TargetParams"/> is set.
    /// </summary>
    public double CapacityFloor { get; init; } = 0.75;

    /// <summary>
    /// <see cref="PruningStrategy.Acp"/>: after the swarm, its best this many distinct structures and the uniform
    /// structure of the budget are scored again, each after <see cref="FinalistSteps"/> steps of distilled fine-tuning,
    /// on the whole validation split, and the best of them is kept; 0 = keep the swarm's best. The swarm's cheap
    /// fitness ranks deep cuts poorly; a few dozen trained steps rank them close to their fine-tuned order, and the
    /// uniform structure among the finalists keeps the search from ending below the uniform baseline
    /// (docs/benchmarks.md). Ignored by <see cref="PruningStrategy.AcpPaper"/>.
    /// </summary>
    public int Finalists { get; init; } = 4;

    /// <summary>Optimizer steps of distilled fine-tuning each finalist gets before it is scored again (see <see cref="Finalists"/>).</summary>
    public int FinalistSteps { get; init; } = 50;

    /// <summary>The particle swarm (particles, cycles, coefficients); the seed and rounding are taken from these options.</summary>
    public PsoOptions Swarm { get; init; } = new() { MaxVelocityFraction = 0.25 };

    /// <summary><see cref="PruningStrategy.AcpPaper"/> only: epochs of fine-tuning before a candidate is scored (the code: 3).</summary>
    public int PaperFitnessEpochs { get; init; } = 3;

    /// <summary>Epochs of fine-tuning of the chosen structure (soft-pruning strategies prune during these epochs).</summary>
    public int Epochs { get; init; } = 3;

    /// <summary>Mini-batch size of fine-tuning and evaluation.</summary>
    public int BatchSize { get; init; } = 128;

    /// <summary>Peak learning rate of the cosine schedule of fine-tuning.</summary>
    public float LearningRate { get; init; } = 0.02f;

    /// <summary>SGD weight decay.</summary>
    public float WeightDecay { get; init; } = 5e-4f;

    /// <summary>Augmentation of fine-tuning batches.</summary>
    public Augmentation Augmentation { get; init; } = Augmentation.None;

    /// <summary>Distil from the original network while fine-tuning (logit KL, as in AIP); 0 = plain cross-entropy.</summary>
    public float DistillationWeight { get; init; } = 0.7f;

    /// <summary>Softmax temperature of distillation.</summary>
    public float DistillationTemperature { get; init; } = 4f;

    /// <summary><see cref="PruningStrategy.Aip"/>: its schedule, importance criterion and loss weights.</summary>
    public AipOptions Aip { get; init; } = new();

    /// <summary>
    /// A folder for the run's log (one JSON line per fitness evaluation) and checkpoints; null = no log, no resume.
    /// </summary>
    public string? RunDirectory { get; init; }

    /// <summary>Continue the run found in <see cref="RunDirectory"/> instead of refusing to overwrite it.</summary>
    public bool Resume { get; init; }

    /// <summary>
    /// Where the run computes: <see cref="EngineBackend"/> (Acp's CPU engine, the default) or another
    /// <see cref="IComputeBackend"/>, such as Acp.TorchSharp's <c>TorchSharpBackend</c> on <c>cpu</c> or <c>cuda:N</c>.
    /// The device is part of the backend instance.
    /// </summary>
    public IComputeBackend Backend { get; init; } = EngineBackend.Instance;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        static void Fraction(double? value, string name)
        {
            if (value is { } v && !(v > 0 && v <= 1)) throw new ArgumentException($"{name} must be in (0, 1]; got {v}.", name);
        }
        Fraction(TargetFlops, nameof(TargetFlops));
        Fraction(TargetParams, nameof(TargetParams));
        if (Ratio is not null && (TargetFlops is not null || TargetParams is not null)) throw new ArgumentException("Ratio and TargetFlops/TargetParams exclude each other.", nameof(Ratio));
        if (Ratio is null && TargetFlops is null && TargetParams is null) throw new ArgumentException("Set a budget: TargetFlops and/or TargetParams.", nameof(TargetFlops));
        Positive(RoundTo, nameof(RoundTo));
        if (ValidationImages is { } v) Positive(v, nameof(ValidationImages));
        if (Ratio is { } r && !(r >= 0 && r < 1)) throw new ArgumentException($"{nameof(Ratio)} must be at least 0 and below 1; got {r}.", nameof(Ratio));
        if (FitnessImages is { } f) Positive(f, nameof(FitnessImages));
        Positive(CalibrationImages, nameof(CalibrationImages));
        Positive(MinPoints, nameof(MinPoints));
        Positive(RecalibrationImages, nameof(RecalibrationImages));
        Positive(BatchSize, nameof(BatchSize));
        if (Epochs < 0) throw new ArgumentException($"{nameof(Epochs)} cannot be negative; got {Epochs}.", nameof(Epochs));
        if (FitnessSteps < 0) throw new ArgumentException($"{nameof(FitnessSteps)} cannot be negative; got {FitnessSteps}.", nameof(FitnessSteps));
        Positive(FitnessTuningBatchSize, nameof(FitnessTuningBatchSize));
        if (Finalists < 0) throw new ArgumentException($"{nameof(Finalists)} cannot be negative; got {Finalists}.", nameof(Finalists));
        Positive(FinalistSteps, nameof(FinalistSteps));
        if (!(CapacityFloor >= 0 && CapacityFloor <= 1)) throw new ArgumentException($"{nameof(CapacityFloor)} must be in [0, 1] (a fraction of the uniform structure's parameters); got {CapacityFloor}.", nameof(CapacityFloor));
        if (PaperFitnessEpochs < 0) throw new ArgumentException($"{nameof(PaperFitnessEpochs)} cannot be negative.", nameof(PaperFitnessEpochs));
        if (Epsilon is { } e && !(e >= 0 && e <= 2)) throw new ArgumentException($"Epsilon must be in [0, 2] (a cosine distance); got {e}.", nameof(Epsilon));
        if (!(LearningRate > 0)) throw new ArgumentException($"{nameof(LearningRate)} must be positive.", nameof(LearningRate));
        if (!(DistillationWeight >= 0 && DistillationWeight <= 1)) throw new ArgumentException($"{nameof(DistillationWeight)} must be in [0, 1].", nameof(DistillationWeight));
        if (!(DistillationTemperature > 0)) throw new ArgumentException($"{nameof(DistillationTemperature)} must be positive.", nameof(DistillationTemperature));
        if (Augmentation.CropPadding < 0) throw new ArgumentException("Crop padding cannot be negative.", nameof(Augmentation));
        if (Resume && RunDirectory is null) throw new ArgumentException("Resume needs a RunDirectory.", nameof(Resume));
        ArgumentNullException.ThrowIfNull(Swarm, nameof(Swarm));
        ArgumentNullException.ThrowIfNull(Backend, nameof(Backend));
        ValidateAip();
    }

    /// <summary>
    /// These options with what was left to the model filled in from its metadata (<see cref="ModelDefaults"/>): the
    /// normalisation and the held-out validation tail. The one place these rules live, for every caller.
    /// </summary>
    /// <exception cref="Acp.Onnx.OnnxModelException">The model's normalisation metadata is malformed.</exception>
    public PruningOptions ResolvedFor(Acp.Onnx.Ir.OnnxModel model, IImageDataset? training = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var tail = ValidationImages is null ? ModelDefaults.HeldOutTail(model) : null;
        var readyInput = training?.PixelFormat == PixelFormat.Features;
        return this with
        {
            Normalization = readyInput ? null : Normalization ?? ModelDefaults.Normalization(model, model.Graph.Name),
            ValidationImages = ValidationImages ?? tail ?? DefaultValidationImages,
            ValidationFromTail = ValidationFromTail || tail is not null,
        };
    }

    private void ValidateAip()
    {
        var aip = Aip ?? throw new ArgumentException("Aip options cannot be null.", nameof(Aip));
        if (!(aip.StepFraction > 0 && aip.StepFraction <= 1)) throw new ArgumentException($"Aip.StepFraction must be in (0, 1]; got {aip.StepFraction}.", nameof(Aip));
        if (aip.RecoverySteps < 0) throw new ArgumentException($"Aip.RecoverySteps cannot be negative; got {aip.RecoverySteps}.", nameof(Aip));
        if (!(aip.AttentionWeight >= 0 && float.IsFinite(aip.AttentionWeight))) throw new ArgumentException($"Aip.AttentionWeight must be at least 0; got {aip.AttentionWeight}.", nameof(Aip));
        if (!(aip.AdversarialWeight >= 0 && float.IsFinite(aip.AdversarialWeight))) throw new ArgumentException($"Aip.AdversarialWeight must be at least 0; got {aip.AdversarialWeight}.", nameof(Aip));
        Positive(aip.DiscriminatorWidth, "Aip.DiscriminatorWidth");
        if (!(aip.DiscriminatorLearningRate > 0 && float.IsFinite(aip.DiscriminatorLearningRate))) throw new ArgumentException($"Aip.DiscriminatorLearningRate must be positive; got {aip.DiscriminatorLearningRate}.", nameof(Aip));
        if (Strategy == PruningStrategy.Aip && !Backend.TransfersKnowledge && (aip.AttentionWeight > 0 || aip.AdversarialWeight > 0))
        {
            throw new ArgumentException($"The aip strategy's attention-transfer and adversarial losses are not implemented on the {Backend.Name} backend; use the engine or torchsharp backend (or set both weights to 0).", nameof(Backend));
        }
    }

    private static void Positive(int value, string name)
    {
        if (value < 1) throw new ArgumentException($"{name} must be at least 1; got {value}.", name);
    }
}
