using System.Diagnostics;

namespace Acp.Pruning.Pipeline;

/// <summary>
/// ACP made budget-aware (<see cref="PruningStrategy.Acp"/>): the swarm starts at the clustering, scores candidates by
/// inherited weights, re-fitted BatchNormalization and optionally a few distilled steps
/// (<see cref="PruningOptions.FitnessSteps"/>), keeps (with a MAC budget alone) above a capacity floor, and its best few
/// are re-scored beside the uniform structure (<see cref="PruningOptions.Finalists"/>); cluster representatives are kept.
/// </summary>
internal sealed class AcpSearch : IStructureSearch
{
    public StructureChoice Find(PruningRun run)
    {
        var (options, budget) = (run.Options, run.Budget);
        var start = ClusteredStart.Find(run);
        var ranking = ChannelRanking.Representatives(run.Analysis, start.Features, start.Clusterings);
        var builder = run.Builder(ranking);
        var swarm = options.Swarm with { Seed = (ulong)options.Seed, RoundTo = options.RoundTo };
        var tuner = options.FitnessSteps > 0 ? new FitnessTuner(run.Original, run.Data.FitnessTuning, options, run.Cancellation) : null;
        var (_, uniform) = budget.Uniform(options.RoundTo);
        long? paramsFloor = options.CapacityFloor > 0 && options.TargetParams is null && swarm.Particles > 1
            ? (long)Math.Ceiling(budget.Cost(uniform).Params * options.CapacityFloor)
            : null;

        (int, int) Score(int[] widths)
        {
            var (model, _) = builder.Prune(widths);
            using var network = tuner is not null ? builder.Tuned(model, tuner, run.Cancellation) : builder.Recalibrated(model, run.Cancellation);
            return CandidateBuilder.Score(network, run.Data.Fitness, run.Cancellation);
        }

        // With a capacity floor, an over-budget particle sheds MACs where they cost the fewest parameters; the default
        // repair (relatively widest first) would cut the parameter-heavy late layers and sink it below the floor.
        var upper = run.Groups.Select(g => g.Width).ToArray();
        Func<int[], int>? repairStep = paramsFloor is null ? null : w => budget.CheapestMacs(w, upper, options.RoundTo);
        var imagesPerCandidate = run.Data.Recalibration.ImagesPerEpoch + run.Data.Fitness.ImagesPerEpoch + (tuner is null ? 0 : run.Data.FitnessTuning.ImagesPerEpoch);
        var (result, candidates) = SwarmSearch.Run(run, swarm, start.Widths, paramsFloor is null ? [] : [uniform], Score, paramsFloor, repairStep, imagesPerCandidate);
        if (options.Finalists == 0) return new StructureChoice(result.BestStructure, ranking, start.Epsilon, null, result.History, candidates, []);
        var finalists = ScoreFinalists(run, candidates, uniform, builder);
        var chosen = finalists[0];
        foreach (var finalist in finalists) if (finalist.Correct > chosen.Correct) chosen = finalist;
        return new StructureChoice(chosen.Widths, ranking, start.Epsilon, null, result.History, candidates, finalists);
    }

    public IEnumerable<StageEstimate> Estimate(PruningRun run, WorkRates rates)
    {
        var (options, data) = (run.Options, run.Data);
        var distilled = options.DistillationWeight > 0;
        foreach (var part in ClusteredStart.Estimate(run, rates)) yield return part;

        var candidates = options.Swarm.Particles * (options.Swarm.Cycles + 1);
        var tuning = options.FitnessSteps > 0 ? data.FitnessTuning.ImagesPerEpoch : 0;
        var perCandidate = rates.Candidate(data, data.Fitness.ImagesPerEpoch) + rates.PrunedTrainStep * tuning;
        // The teacher's logits of the fitness steps are computed once (FitnessTuner).
        var teacher = distilled ? tuning * rates.OriginalInference : 0;
        yield return new(PruningStage.Searching, StageEstimates.Seconds(candidates * perCandidate + teacher),
            $"at most {candidates} candidates × {perCandidate:0.0##} s");
        if (options.Finalists == 0) yield break;

        var finalists = options.Finalists + 1;
        var steps = data.FinalistTuning.ImagesPerEpoch;
        var perFinalist = rates.Candidate(data, data.Validation.ImagesPerEpoch) + rates.PrunedTrainStep * steps;
        yield return new(PruningStage.Finalists, StageEstimates.Seconds(finalists * perFinalist + (distilled ? steps * rates.OriginalInference : 0)),
            $"at most {finalists} finalists × {perFinalist:0.0##} s");
    }

    /// <summary>
    /// The finalists stage: the swarm's best few distinct structures (best first) and the budget's uniform structure
    /// (last), each trained for a few distilled steps and scored on the whole validation split.
    /// </summary>
    private static List<CandidateEvaluation> ScoreFinalists(PruningRun run, IReadOnlyList<CandidateEvaluation> swarm, int[] uniform, CandidateBuilder builder)
    {
        var (options, store, progress, cancellation) = (run.Options, run.Store, run.Progress, run.Cancellation);
        // OrderByDescending is stable: of equal fitness, the structure evaluated first (the swarm's own best) leads.
        var structures = swarm.OrderByDescending(c => c.Accuracy).Select(c => c.Widths)
            .DistinctBy(w => string.Join(",", w)).Take(options.Finalists).ToList();
        if (!structures.Any(s => s.AsSpan().SequenceEqual(uniform))) structures.Add(uniform);

        var tuner = new FitnessTuner(run.Original, run.Data.FinalistTuning, options, cancellation);
        var scored = new List<CandidateEvaluation>();
        var imagesPerFinalist = run.Data.FinalistTuning.ImagesPerEpoch + run.Data.Recalibration.ImagesPerEpoch + run.Data.Validation.ImagesPerEpoch;
        var (scoredImages, scoredSeconds) = (0L, 0.0);
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
                using (var network = builder.Tuned(model, tuner, cancellation)) (correct, images) = CandidateBuilder.Score(network, run.Data.Validation, cancellation);
                CandidateMemory.Reclaim();
                var cost = run.Budget.Cost(widths);
                evaluation = new CandidateEvaluation(scored.Count, widths, cost.Macs, cost.Params, correct, images, clock.Elapsed.TotalSeconds) { Stage = CandidateStage.Finalist };
                store?.Append(evaluation);
                (scoredImages, scoredSeconds) = (scoredImages + imagesPerFinalist, scoredSeconds + evaluation.Seconds);
            }
            scored.Add(evaluation with { Index = scored.Count });
            var uniformNote = widths.AsSpan().SequenceEqual(uniform) ? " (uniform)" : "";
            progress?.Report(new PruningProgress(PruningStage.Finalists, scored.Count, structures.Count,
                $"finalist {scored.Count}/{structures.Count}{uniformNote}: accuracy {evaluation.Accuracy:P2}, best {scored.Max(e => e.Accuracy):P2}")
            {
                ImagesPerSecond = scoredImages > 0 && scoredSeconds > 0 ? scoredImages / scoredSeconds : null,
            });
        }
        return scored;
    }
}
