using System.Diagnostics;
using Acp.Engine.Backends;
using Acp.Engine.Data;
using Acp.Onnx.Analysis;
using Acp.Onnx.Channels;
using Acp.Onnx.Ir;
using Acp.Pruning.Clustering;
using Acp.Pruning.Search;

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
        var data = RunData.Split(training, options);
        var analysis = ChannelAnalysis.Run(model);
        var groups = analysis.PrunableGroups;
        if (groups.Count == 0)
        {
            // The input cannot be pruned with data at all: a property of the model, like an invalid graph (exit code 2).
            throw new ArgumentException("The model has no prunable channel group: " +
                string.Join("; ", analysis.FencedGroups.Take(5).Select(g => g.ToString())));
        }
        var budget = new Budget(new CostPredictor(analysis), groups, options.TargetFlops, options.TargetParams);
        var store = options.RunDirectory is { } directory
            ? RunStore.Open(directory, options.Resume, model.ToBytes(), data.Identity, options)
            : null;

        using var original = options.Backend.Build(model, options.Seed);
        var originalAccuracy = Accuracy(CandidateBuilder.Score(original, data.Validation, cancellation));

        var search = options.Strategy switch
        {
            PruningStrategy.Acp or PruningStrategy.AcpPaper => SearchStructure(analysis, groups, budget, original, data, options, store, progress, cancellation),
            _ => UniformStructure(analysis, groups, budget, options),
        };
        var searchTime = clock.Elapsed;

        var builder = new CandidateBuilder(analysis, search.Ranking, data.Recalibration, options.Seed, options.Backend);
        var soft = options.Strategy is PruningStrategy.Sfp or PruningStrategy.Asrfp or PruningStrategy.Ghfp;
        OnnxModel pruned;
        IReadOnlyDictionary<int, int[]> keep;
        double before;
        double[] losses;
        ITrainableNetwork tuned;
        if (soft)
        {
            (pruned, keep, before, tuned, losses) = SoftPruning.Run(model, analysis, groups, search.Widths, original, data, options, store, progress, cancellation);
        }
        else
        {
            (pruned, keep) = builder.Prune(search.Widths);
            var candidate = builder.Recalibrated(pruned, cancellation);
            if (options.Strategy == PruningStrategy.AcpPaper)
            {
                // The code retrains gbest from the weights of its fitness fine-tune; that fine-tune is deterministic, so it
                // is re-run here instead of being kept from the search (which a resumed run may not have done).
                candidate = PaperFitnessTuning(candidate, pruned, data, options, cancellation);
            }
            before = Accuracy(CandidateBuilder.Score(candidate, data.Validation, cancellation));
            candidate.WriteWeightsTo(pruned);
            candidate.Dispose();
            var teacher = options.DistillationWeight > 0 ? original : null;
            (tuned, pruned, losses) = new FineTuner(options, data.Training, teacher).Run(pruned, options.Epochs, store, null, progress, cancellation);
        }

        progress?.Report(new PruningProgress(PruningStage.Exporting, 0, 1, "measuring the pruned model"));
        var after = Accuracy(CandidateBuilder.Score(tuned, data.Validation, cancellation));
        tuned.WriteWeightsTo(pruned);
        tuned.Dispose();
        var originalCost = ModelCost.Compute(model, analysis.Shapes);
        var prunedCost = ModelCost.Compute(pruned, ShapeInference.Run(pruned));
        progress?.Report(new PruningProgress(PruningStage.Exporting, 1, 1, "done"));

        return new PruningResult
        {
            Model = pruned,
            Strategy = options.Strategy,
            Original = new ModelMeasure(originalCost.TotalParams, originalCost.TotalMacs, originalAccuracy),
            PrunedBeforeFineTuning = new ModelMeasure(prunedCost.TotalParams, prunedCost.TotalMacs, before),
            Pruned = new ModelMeasure(prunedCost.TotalParams, prunedCost.TotalMacs, after),
            Widths = groups.Select((g, d) => new GroupWidth(g.Id, GroupName(g), g.Width, keep.TryGetValue(g.Id, out var k) ? k.Length : g.Width)).ToArray(),
            Keep = keep,
            Epsilon = search.Epsilon,
            UniformRatio = search.Ratio,
            SearchHistory = search.History,
            Candidates = search.Candidates,
            Finalists = search.Finalists,
            EpochLosses = losses,
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
        if (options.Strategy is not (PruningStrategy.L1 or PruningStrategy.Random))
        {
            throw new ArgumentException($"Strategy {options.Strategy} needs training data: it measures accuracy and fine-tunes. Without data only L1 and Random are possible.", nameof(options));
        }
        if (options.Resume) throw new ArgumentException("Resume needs training data: a structure-only prune has nothing to resume.", nameof(options));
        var analysis = ChannelAnalysis.Run(model);
        var ratio = options.Ratio ?? (analysis.PrunableGroups.Count == 0 ? 0
            : new Budget(new CostPredictor(analysis), analysis.PrunableGroups, options.TargetFlops, options.TargetParams).Uniform(options.RoundTo).Ratio);
        ChannelSelectionStrategy selector = options.Strategy == PruningStrategy.Random ? new RandomStrategy(options.Seed) : new L1NormStrategy();
        var keep = selector.Select(analysis, ratio, options.RoundTo);
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
            Widths = analysis.PrunableGroups.Select(g => new GroupWidth(g.Id, GroupName(g), g.Width, keep.TryGetValue(g.Id, out var k) ? k.Length : g.Width)).ToArray(),
            Keep = keep,
            UniformRatio = ratio,
            TotalTime = clock.Elapsed,
        };
    }

    /// <summary>A readable name for a group: its first producer's node name, or the value it produces.</summary>
    public static string GroupName(ChannelGroup group)
    {
        ArgumentNullException.ThrowIfNull(group);
        var producer = group.Producers.FirstOrDefault();
        if (producer is null) return $"group {group.Id}";
        return string.IsNullOrEmpty(producer.Node.Name) ? producer.Output : producer.Node.Name;
    }

    private static double Accuracy((int Correct, int Images) score) => (double)score.Correct / score.Images;

    private sealed record StructureChoice(int[] Widths, ChannelRanking Ranking, double? Epsilon, double? Ratio,
        IReadOnlyList<PsoCycle> History, IReadOnlyList<CandidateEvaluation> Candidates, IReadOnlyList<CandidateEvaluation> Finalists);

    private static StructureChoice UniformStructure(ChannelAnalysis analysis, IReadOnlyList<ChannelGroup> groups, Budget budget, PruningOptions options)
    {
        var (ratio, widths) = budget.Uniform(options.RoundTo);
        var ranking = options.Strategy == PruningStrategy.Random
            ? ChannelRanking.Random(analysis, groups, options.Seed)
            : ChannelRanking.L1(analysis, groups);
        return new StructureChoice(widths, ranking, null, ratio, [], [], []);
    }

    private static StructureChoice SearchStructure(ChannelAnalysis analysis, IReadOnlyList<ChannelGroup> groups, Budget budget, ITrainableNetwork original,
        RunData data, PruningOptions options, RunStore? store, IProgress<PruningProgress>? progress, CancellationToken cancellation)
    {
        var features = FeatureMaps.Collect(original, groups, data.Calibration, options.Tap, progress, cancellation);
        progress?.Report(new PruningProgress(PruningStage.Clustering, 0, 1, "clustering channels"));
        var distances = features.Select(f => CosineDistance.Compute(f.Rows, f.Group.Width, f.FeatureCount)).ToArray();
        var upper = groups.Select(g => g.Width).ToArray();
        int[] Rounded(IReadOnlyList<int> widths) => widths.Select((w, d) => StructureRounding.Round(w, upper[d], options.RoundTo)).ToArray();

        double epsilon;
        IReadOnlyList<ClusteringResult> clusterings;
        if (options.Epsilon is { } fixedEpsilon)
        {
            epsilon = fixedEpsilon;
            clusterings = distances.Select((d, l) => Dbscan.Cluster(d, upper[l], fixedEpsilon, options.MinPoints)).ToArray();
        }
        else
        {
            EpsilonSearchResult found;
            try
            {
                found = EpsilonSearch.ForTargetWidth(distances, widths => budget.Usage(Rounded(widths)), 1.0, options.MinPoints);
            }
            catch (InvalidOperationException)
            {
                var narrowest = upper.Select(u => Math.Min(options.RoundTo, u)).ToArray();
                throw new InvalidOperationException($"The budget cannot be met: even the narrowest structure costs {budget.Describe(budget.Cost(narrowest))}.");
            }
            epsilon = found.Epsilon;
            clusterings = found.Clusterings;
        }
        var start = Rounded(clusterings.Select(c => c.PreliminaryWidth).ToArray());
        progress?.Report(new PruningProgress(PruningStage.Clustering, 1, 1, $"ε = {epsilon:0.#####}: {budget.Describe(budget.Cost(start))}"));

        var paper = options.Strategy == PruningStrategy.AcpPaper;
        var ranking = paper ? ChannelRanking.Random(analysis, groups, options.Seed) : ChannelRanking.Representatives(analysis, features, clusterings);
        var builder = new CandidateBuilder(analysis, ranking, data.Recalibration, options.Seed, options.Backend);
        var swarm = options.Swarm with
        {
            Seed = (ulong)options.Seed,
            RoundTo = options.RoundTo,
            Variant = paper ? PsoVariant.PaperCode : options.Swarm.Variant,
            MaxVelocityFraction = paper ? null : options.Swarm.MaxVelocityFraction,
        };
        var tuner = !paper && options.FitnessSteps > 0 ? new FitnessTuner(original, data.FitnessTuning, options, cancellation) : null;
        var (_, uniform) = budget.Uniform(options.RoundTo);
        long? paramsFloor = !paper && options.CapacityFloor > 0 && options.TargetParams is null && swarm.Particles > 1
            ? (long)Math.Ceiling(budget.Cost(uniform).Params * options.CapacityFloor)
            : null;
        var candidates = new List<CandidateEvaluation>();
        var expected = swarm.Particles * (swarm.Cycles + 1);
        var best = double.NegativeInfinity;
        var cycle = 0;

        double Fitness(int[] widths)
        {
            if (budget.Cost(widths).Params < paramsFloor) return double.NegativeInfinity;
            var evaluation = store?.Find(widths, CandidateStage.Swarm);
            if (evaluation is null)
            {
                var clock = Stopwatch.StartNew();
                var (model, _) = builder.Prune(widths);
                var network = tuner is not null ? builder.Tuned(model, tuner, cancellation) : builder.Recalibrated(model, cancellation);
                if (paper) network = PaperFitnessTuning(network, model, data, options, cancellation);
                var (correct, images) = CandidateBuilder.Score(network, data.Fitness, cancellation);
                network.Dispose();
                var cost = budget.Cost(widths);
                evaluation = new CandidateEvaluation(candidates.Count, widths, cost.Macs, cost.Params, correct, images, clock.Elapsed.TotalSeconds);
                store?.Append(evaluation);
            }
            evaluation = evaluation with { Index = candidates.Count };
            candidates.Add(evaluation);
            best = Math.Max(best, evaluation.Accuracy);
            progress?.Report(new PruningProgress(PruningStage.Searching, candidates.Count, expected,
                $"cycle {cycle}/{swarm.Cycles}: candidate {candidates.Count}, accuracy {evaluation.Accuracy:P2}, best {best:P2}", cycle, BestFitness: best));
            return evaluation.Accuracy;
        }

        var cycles = new CallbackProgress<PsoCycle>(c => cycle = c.Cycle + 1);
        // With a capacity floor, an over-budget particle sheds MACs where they cost the fewest parameters; the default
        // repair (relatively widest first) would cut the parameter-heavy late layers and sink it below the floor.
        Func<int[], int>? repairStep = paramsFloor is null ? null : w => budget.CheapestMacs(w, upper, options.RoundTo);
        var result = new ParticleSwarm(swarm).Run(start, paramsFloor is null ? [] : [uniform], upper, Fitness, w => budget.Allows(w), cycles, cancellation, repairStep);
        if (!double.IsFinite(result.BestFitness))
        {
            throw new InvalidOperationException("No candidate structure met the budget.");
        }
        if (paper || options.Finalists == 0) return new StructureChoice(result.BestStructure, ranking, epsilon, null, result.History, candidates, []);
        var finalists = ScoreFinalists(candidates, uniform, budget, builder, original, data, options, store, progress, cancellation);
        var chosen = finalists[0];
        foreach (var finalist in finalists) if (finalist.Correct > chosen.Correct) chosen = finalist;
        return new StructureChoice(chosen.Widths, ranking, epsilon, null, result.History, candidates, finalists);
    }

    /// <summary>
    /// The finalists stage: the swarm's best few distinct structures (best first) and the budget's uniform structure
    /// (last), each trained for a few distilled steps and scored on the whole validation split.
    /// </summary>
    private static List<CandidateEvaluation> ScoreFinalists(IReadOnlyList<CandidateEvaluation> swarm, int[] uniform, Budget budget, CandidateBuilder builder,
        ITrainableNetwork original, RunData data, PruningOptions options, RunStore? store, IProgress<PruningProgress>? progress, CancellationToken cancellation)
    {
        // OrderByDescending is stable: of equal fitness, the structure evaluated first (the swarm's own best) leads.
        var structures = swarm.OrderByDescending(c => c.Accuracy).Select(c => c.Widths)
            .DistinctBy(w => string.Join(",", w)).Take(options.Finalists).ToList();
        if (!structures.Any(s => s.AsSpan().SequenceEqual(uniform))) structures.Add(uniform);

        var tuner = new FitnessTuner(original, data.FinalistTuning, options, cancellation);
        var scored = new List<CandidateEvaluation>();
        progress?.Report(new PruningProgress(PruningStage.Finalists, 0, structures.Count, $"{structures.Count} finalists, {tuner.Steps} distilled steps each"));
        foreach (var widths in structures)
        {
            var evaluation = store?.Find(widths, CandidateStage.Finalist);
            if (evaluation is null)
            {
                cancellation.ThrowIfCancellationRequested();
                var clock = Stopwatch.StartNew();
                var (model, _) = builder.Prune(widths);
                var (correct, images) = (0, 0);
                using (var network = builder.Tuned(model, tuner, cancellation)) (correct, images) = CandidateBuilder.Score(network, data.Validation, cancellation);
                var cost = budget.Cost(widths);
                evaluation = new CandidateEvaluation(scored.Count, widths, cost.Macs, cost.Params, correct, images, clock.Elapsed.TotalSeconds) { Stage = CandidateStage.Finalist };
                store?.Append(evaluation);
            }
            scored.Add(evaluation with { Index = scored.Count });
            var uniformNote = widths.AsSpan().SequenceEqual(uniform) ? " (uniform)" : "";
            progress?.Report(new PruningProgress(PruningStage.Finalists, scored.Count, structures.Count,
                $"finalist {scored.Count}/{structures.Count}{uniformNote}: accuracy {evaluation.Accuracy:P2}, best {scored.Max(e => e.Accuracy):P2}"));
        }
        return scored;
    }

    /// <summary>The paper's fitness: a few epochs of plain fine-tuning of the candidate before it is scored.</summary>
    private static ITrainableNetwork PaperFitnessTuning(ITrainableNetwork candidate, OnnxModel model, RunData data, PruningOptions options, CancellationToken cancellation)
    {
        if (options.PaperFitnessEpochs == 0) return candidate;
        candidate.WriteWeightsTo(model);
        candidate.Dispose();
        var plain = options with { DistillationWeight = 0 };
        return new FineTuner(plain, data.Training, null).Run(model, options.PaperFitnessEpochs, null, null, null, cancellation).Network;
    }
}
