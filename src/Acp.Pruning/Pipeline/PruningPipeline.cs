using System.Diagnostics;
using Acp.Data;
using Acp.Onnx.Analysis;
using Acp.Onnx.Channels;
using Acp.Onnx.Ir;

namespace Acp.Pruning.Pipeline;

/// <summary>
/// A whole pruning run: from a trained model and its training data to a physically smaller, fine-tuned model within a
/// MAC and/or parameter budget.
/// </summary>
/// <remarks>
/// Only the training split is ever read. A validation split is held out of it (never trained on) to score candidate
/// structures; the rest supplies calibration, BatchNormalization statistics and fine-tuning. The test split is the
/// caller's, for the final report.
/// </remarks>
public static class PruningPipeline
{
    /// <summary>
    /// Prunes <paramref name="model"/> as <paramref name="options"/> say: Acp's one entry point, which the command line,
    /// the ML.NET estimator and the notebooks all call.
    /// </summary>
    /// <param name="model">The trained model (not modified).</param>
    /// <param name="training">
    /// The training split of the data set the model was trained on; null = structure-only pruning (L1 or random
    /// channels, uniform widths from <see cref="PruningOptions.Ratio"/> or the budget, no accuracy measured, no training).
    /// </param>
    /// <param name="options">Strategy, budget and everything else.</param>
    /// <param name="progress">Progress of every stage, reported on the calling thread.</param>
    /// <param name="cancellation">Stops the run between batches or evaluations; with a run folder it resumes later.</param>
    /// <exception cref="ArgumentException">Invalid options, data that do not fit the model, or a model with nothing prunable.</exception>
    /// <exception cref="InvalidOperationException">The budget cannot be met.</exception>
    /// <exception cref="IOException">The run folder holds another run.</exception>
    /// <exception cref="OperationCanceledException">The run was cancelled.</exception>
    public static PruningResult Run(OnnxModel model, IImageDataset? training, PruningOptions options,
        IProgress<PruningProgress>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        options = options.ResolvedFor(model, training);
        var clock = Stopwatch.StartNew();
        if (training is null) return StructureOnly(model, options, clock);
        if (options.Ratio is not null) throw new ArgumentException("Ratio is for structure-only pruning without data; with data give the budget: TargetFlops and/or TargetParams.", nameof(options));
        var (search, fineTuning) = Strategies.For(options.Strategy);

        // 1. Analyse: validation split, channel groups, budget, run folder, the original network and its accuracy.
        using var run = PruningRun.Analyse(model, training, options, progress, cancellation);
        // Before any stage's work: a timed sample and every stage's estimated time (only for a progress listener).
        StageEstimates.Report(run, search, fineTuning);
        progress?.Report(new PruningProgress(PruningStage.Calibrating, 0, 0, $"validation accuracy of the original on {run.Data.Validation.ImagesPerEpoch} images"));
        var originalAccuracy = run.ValidationAccuracy(run.Original);

        // 2. Search: how many channels each group keeps, and which.
        var structure = search.Find(run);
        var searchTime = clock.Elapsed;

        // 3. Build: the pruned candidate fine-tuning starts from, and its accuracy before fine-tuning.
        progress?.Report(new PruningProgress(PruningStage.FineTuning, 0, 0, "building the chosen structure"));
        var start = fineTuning.Build(run, structure);

        // 4. Fine-tune, and hand the trained weights over to the pruned graph once.
        var tuned = fineTuning.Train(run, structure, start);
        // The teacher's and the student's buffers are done with: hand them back before the proof builds its network.
        run.Original.ReleaseBuffers();
        CandidateMemory.Reclaim();

        // 5. Prove: measure the model that is returned, as it is.
        return Prove(run, structure, start.AccuracyBefore, tuned, originalAccuracy, searchTime, clock);
    }

    /// <summary>The result: the handed-over model scored afresh, and the costs of both models counted on their graphs.</summary>
    private static PruningResult Prove(PruningRun run, StructureChoice structure, double before, FineTuned tuned, double originalAccuracy,
        TimeSpan searchTime, Stopwatch clock)
    {
        run.Progress?.Report(new PruningProgress(PruningStage.Exporting, 0, 1, "measuring the pruned model"));
        var measuring = Stopwatch.StartNew();
        double after;
        using (var network = run.Options.Backend.Build(tuned.Model, run.Options.Seed)) after = run.ValidationAccuracy(network);
        var originalCost = ModelCost.Compute(run.Model, run.Analysis.Shapes);
        var prunedCost = ModelCost.Compute(tuned.Model, ShapeInference.Run(tuned.Model));
        run.Progress?.Report(new PruningProgress(PruningStage.Exporting, 1, 1, "done")
        {
            ImagesPerSecond = run.Data.Validation.ImagesPerEpoch / Math.Max(1e-9, measuring.Elapsed.TotalSeconds),
        });

        return new PruningResult
        {
            Model = tuned.Model,
            Strategy = run.Options.Strategy,
            Original = new ModelMeasure(originalCost.TotalParams, originalCost.TotalMacs, originalAccuracy),
            PrunedBeforeFineTuning = new ModelMeasure(prunedCost.TotalParams, prunedCost.TotalMacs, before),
            Pruned = new ModelMeasure(prunedCost.TotalParams, prunedCost.TotalMacs, after),
            Widths = Widths(run.Groups, tuned.Keep),
            Keep = tuned.Keep,
            Epsilon = structure.Epsilon,
            UniformRatio = structure.Ratio,
            SearchHistory = structure.History,
            Candidates = [.. structure.Candidates, .. tuned.Iterations],
            Finalists = structure.Finalists,
            EpochLosses = tuned.Losses,
            SearchTime = searchTime,
            TotalTime = clock.Elapsed,
        };
    }

    /// <summary>
    /// Without data: every prunable group loses the same fraction (given, or found for the budget), keeping the channels
    /// of largest L1 norm or random ones; nothing is trained or measured, so accuracy drops.
    /// </summary>
    private static PruningResult StructureOnly(OnnxModel model, PruningOptions options, Stopwatch clock)
    {
        if (options.Resume) throw new ArgumentException("Resume needs training data: a structure-only prune has nothing to resume.", nameof(options));
        var analysis = ChannelAnalysis.Run(model);
        var ranking = Strategies.WithoutData(options.Strategy, analysis, options.Seed)
            ?? throw new ArgumentException($"Strategy {options.Strategy} needs training data: it measures accuracy and fine-tunes. Without data only L1 and Random are possible.", nameof(options));
        var groups = analysis.PrunableGroups;
        var ratio = options.Ratio ?? (groups.Count == 0 ? 0
            : new Budget(new CostPredictor(analysis), groups, options.TargetFlops, options.TargetParams).Uniform(options.RoundTo).Ratio);
        var keep = ranking.KeepSets(Budget.UniformWidths(groups, ratio, options.RoundTo));
        var pruned = ChannelSurgery.Apply(analysis, keep).Model;
        var originalCost = ModelCost.Compute(model, analysis.Shapes);
        var prunedCost = ModelCost.Compute(pruned, ShapeInference.Run(pruned));
        var after = new ModelMeasure(prunedCost.TotalParams, prunedCost.TotalMacs, null);
        return new PruningResult
        {
            Model = pruned,
            Strategy = options.Strategy,
            Original = new ModelMeasure(originalCost.TotalParams, originalCost.TotalMacs, null),
            PrunedBeforeFineTuning = after,
            Pruned = after,
            Widths = Widths(groups, keep),
            Keep = keep,
            UniformRatio = ratio,
            TotalTime = clock.Elapsed,
        };
    }

    private static GroupWidth[] Widths(IReadOnlyList<ChannelGroup> groups, IReadOnlyDictionary<int, int[]> keep) =>
        groups.Select(g => new GroupWidth(g.Id, GroupName(g), g.Width, keep.TryGetValue(g.Id, out var k) ? k.Length : g.Width)).ToArray();

    /// <summary>A readable name for a group: its first producer's node name, or the value it produces.</summary>
    public static string GroupName(ChannelGroup group)
    {
        ArgumentNullException.ThrowIfNull(group);
        var producer = group.Producers.FirstOrDefault();
        if (producer is null) return $"group {group.Id}";
        return string.IsNullOrEmpty(producer.Node.Name) ? producer.Output : producer.Node.Name;
    }
}
