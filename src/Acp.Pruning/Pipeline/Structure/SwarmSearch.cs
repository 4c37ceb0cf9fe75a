using System.Diagnostics;
using Acp.Pruning.Search;

namespace Acp.Pruning.Pipeline;

/// <summary>
/// The particle swarm over per-group widths as a run drives it: every candidate scored by the search's own fitness,
/// looked up in the run's evaluation log first (a resumed run replays the swarm from it) and appended to it after,
/// with progress per candidate.
/// </summary>
internal static class SwarmSearch
{
    /// <summary>The swarm's result and every candidate it scored, in order.</summary>
    /// <param name="run">The run.</param>
    /// <param name="swarm">The swarm's settings.</param>
    /// <param name="start">The first particle.</param>
    /// <param name="alsoStartAt">Further particles (e.g. the uniform structure).</param>
    /// <param name="score">Scores a structure: (correct, images).</param>
    /// <param name="paramsFloor">Structures with fewer parameters are not scored (fitness −∞), or null.</param>
    /// <param name="repairStep">The group an over-budget particle narrows next, or null for the default repair.</param>
    /// <param name="imagesPerCandidate">Images a candidate's scoring runs through networks (re-fit, training steps, scoring), for the throughput.</param>
    public static (PsoResult Result, IReadOnlyList<CandidateEvaluation> Candidates) Run(PruningRun run, PsoOptions swarm, int[] start, IReadOnlyList<int[]> alsoStartAt,
        Func<int[], (int Correct, int Images)> score, long? paramsFloor = null, Func<int[], int>? repairStep = null, long imagesPerCandidate = 0)
    {
        var (scoredImages, scoredSeconds) = (0L, 0.0);
        var (budget, store, progress) = (run.Budget, run.Store, run.Progress);
        var upper = run.Groups.Select(g => g.Width).ToArray();
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
                var (correct, images) = score(widths);
                // The candidate's network is disposed by now: its buffers go back before the next one is built.
                CandidateMemory.Reclaim();
                var cost = budget.Cost(widths);
                evaluation = new CandidateEvaluation(candidates.Count, widths, cost.Macs, cost.Params, correct, images, clock.Elapsed.TotalSeconds);
                store?.Append(evaluation);
                // Only candidates scored in this process count: a resumed run's logged ones took no time here.
                (scoredImages, scoredSeconds) = (scoredImages + imagesPerCandidate, scoredSeconds + evaluation.Seconds);
            }
            evaluation = evaluation with { Index = candidates.Count };
            candidates.Add(evaluation);
            best = Math.Max(best, evaluation.Accuracy);
            progress?.Report(new PruningProgress(PruningStage.Searching, candidates.Count, expected,
                $"cycle {cycle}/{swarm.Cycles}: candidate {candidates.Count}, accuracy {evaluation.Accuracy:P2}, best {best:P2}", cycle, BestFitness: best)
            {
                ImagesPerSecond = scoredImages > 0 && scoredSeconds > 0 ? scoredImages / scoredSeconds : null,
            });
            return evaluation.Accuracy;
        }

        // The stage starts here, not at its first score: building the scorer (decoding the re-fit images, the teacher's
        // logits) and the first candidate belong to the search.
        progress?.Report(new PruningProgress(PruningStage.Searching, 0, expected, $"scoring at most {expected} candidates", 0));
        var cycles = new CallbackProgress<PsoCycle>(c => cycle = c.Cycle + 1);
        var result = new ParticleSwarm(swarm).Run(start, alsoStartAt, upper, Fitness, w => budget.Allows(w), cycles, run.Cancellation, repairStep);
        if (!double.IsFinite(result.BestFitness))
        {
            throw new InvalidOperationException("No candidate structure met the budget.");
        }
        return (result, candidates);
    }
}
