using Acp.Engine.Backends;
using Acp.Data;
using Acp.Onnx.Channels;
using Acp.Onnx.Ir;

namespace Acp.Pruning.Pipeline;

/// <summary>
/// The analysed run every stage reads: the model and its channel groups, the budget, the data views, the original
/// network (feature maps, teacher), the run folder, progress and cancellation. Made once by <see cref="Analyse"/>.
/// </summary>
internal sealed class PruningRun : IDisposable
{
    private PruningRun(OnnxModel model, ChannelAnalysis analysis, Budget budget, RunData data, ITrainableNetwork original,
        PruningOptions options, RunStore? store, IProgress<PruningProgress>? progress, CancellationToken cancellation)
    {
        Model = model;
        Analysis = analysis;
        Budget = budget;
        Data = data;
        Original = original;
        Options = options;
        Store = store;
        Progress = progress;
        Cancellation = cancellation;
    }

    /// <summary>The original model (never modified).</summary>
    public OnnxModel Model { get; }

    /// <summary>The original model's channel groups.</summary>
    public ChannelAnalysis Analysis { get; }

    /// <summary>The searched groups, in the order of a structure's widths.</summary>
    public IReadOnlyList<ChannelGroup> Groups => Analysis.PrunableGroups;

    /// <summary>The cost limit.</summary>
    public Budget Budget { get; }

    /// <summary>The views of the training split.</summary>
    public RunData Data { get; }

    /// <summary>The original network: feature maps for clustering, the teacher of distillation.</summary>
    public ITrainableNetwork Original { get; }

    /// <summary>The resolved options.</summary>
    public PruningOptions Options { get; }

    /// <summary>The run folder (evaluation log, checkpoints), or null.</summary>
    public RunStore? Store { get; }

    /// <summary>Progress of every stage.</summary>
    public IProgress<PruningProgress>? Progress { get; }

    /// <summary>Stops the run between batches or evaluations.</summary>
    public CancellationToken Cancellation { get; }

    /// <summary>The teacher of fine-tuning's distillation, or null when distillation is off.</summary>
    public ITrainableNetwork? Teacher => Options.DistillationWeight > 0 ? Original : null;

    /// <summary>
    /// Analyse: hold out the validation split, find the channel groups, set the budget, open the run folder and build
    /// the original network.
    /// </summary>
    public static PruningRun Analyse(OnnxModel model, IImageDataset training, PruningOptions options,
        IProgress<PruningProgress>? progress, CancellationToken cancellation)
    {
        var data = RunData.Split(training, options);
        var analysis = ChannelAnalysis.Run(model);
        if (analysis.PrunableGroups.Count == 0)
        {
            // The input cannot be pruned with data at all: a property of the model, like an invalid graph (exit code 2).
            throw new ArgumentException("The model has no prunable channel group: " +
                string.Join("; ", analysis.FencedGroups.Take(5).Select(g => g.ToString())));
        }
        var budget = new Budget(new CostPredictor(analysis), analysis.PrunableGroups, options.TargetFlops, options.TargetParams);
        var store = options.RunDirectory is { } directory
            ? RunStore.Open(directory, options.Resume, model.ToBytes(), data.Identity, options)
            : null;
        var original = options.Backend.Build(model, options.Seed);
        return new PruningRun(model, analysis, budget, data, original, options, store, progress, cancellation);
    }

    /// <summary>Validation top-1 of <paramref name="network"/>.</summary>
    public double ValidationAccuracy(ITrainableNetwork network)
    {
        var (correct, images) = CandidateBuilder.Score(network, Data.Validation, Cancellation);
        // Scoring planned the network at the evaluation batch; the original network is idle until its next stage.
        network.ReleaseBuffers();
        return (double)correct / images;
    }

    /// <summary>A builder of candidates that keep the channels <paramref name="ranking"/> puts first.</summary>
    public CandidateBuilder Builder(ChannelRanking ranking) => new(Analysis, ranking, Data.Recalibration, Options.Seed, Options.Backend);

    public void Dispose() => Original.Dispose();
}
