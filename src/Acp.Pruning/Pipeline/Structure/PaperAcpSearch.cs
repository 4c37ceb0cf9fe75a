using Acp.Pruning.Search;

namespace Acp.Pruning.Pipeline;

/// <summary>
/// ACP as the authors' code runs it (<see cref="PruningStrategy.AcpPaper"/>): the swarm starts at the clustering, moves
/// by the code's update with Vmax = 2 channels, scores candidates after a short plain fine-tune
/// (<see cref="PruningOptions.PaperFitnessEpochs"/>) and keeps random channels inside a group.
/// </summary>
internal sealed class PaperAcpSearch : IStructureSearch
{
    public StructureChoice Find(PruningRun run)
    {
        var options = run.Options;
        var start = ClusteredStart.Find(run);
        var ranking = ChannelRanking.Random(run.Analysis, run.Groups, options.Seed);
        var builder = run.Builder(ranking);
        var swarm = options.Swarm with { Seed = (ulong)options.Seed, RoundTo = options.RoundTo, Variant = PsoVariant.PaperCode, MaxVelocityFraction = null };

        (int, int) Score(int[] widths)
        {
            var (model, _) = builder.Prune(widths);
            using var candidate = FitnessTuned(run, new Candidate(model, builder.Recalibrated(model, run.Cancellation)), options.PaperFitnessEpochs);
            return CandidateBuilder.Score(candidate.Network, run.Data.Fitness, run.Cancellation);
        }

        var imagesPerCandidate = run.Data.Recalibration.ImagesPerEpoch + run.Data.Fitness.ImagesPerEpoch + (long)options.PaperFitnessEpochs * run.Data.Training.ImagesPerEpoch;
        var (result, candidates) = SwarmSearch.Run(run, swarm, start.Widths, [], Score, imagesPerCandidate: imagesPerCandidate);
        return new StructureChoice(result.BestStructure, ranking, start.Epsilon, null, result.History, candidates, [])
        {
            FitnessEpochs = options.PaperFitnessEpochs,
        };
    }

    public IEnumerable<StageEstimate> Estimate(PruningRun run, WorkRates rates)
    {
        var (options, data) = (run.Options, run.Data);
        foreach (var part in ClusteredStart.Estimate(run, rates)) yield return part;
        var candidates = options.Swarm.Particles * (options.Swarm.Cycles + 1);
        var fitnessTuning = rates.PrunedTraining((long)options.PaperFitnessEpochs * data.Training.ImagesPerEpoch, distilled: false);
        var perCandidate = rates.Candidate(data, data.Fitness.ImagesPerEpoch) + fitnessTuning;
        yield return new(PruningStage.Searching, StageEstimates.Seconds(candidates * perCandidate), $"at most {candidates} candidates × {perCandidate:0.0##} s");
        // The chosen structure's fitness fine-tune is re-run before fine-tuning (HardFineTuning.Build).
        yield return new(PruningStage.FineTuning, StageEstimates.Seconds(fitnessTuning), $"the chosen structure's {options.PaperFitnessEpochs} fitness epochs again");
    }

    /// <summary>The paper's fitness: <paramref name="epochs"/> epochs of plain fine-tuning (no distillation, no checkpoints).</summary>
    public static Candidate FitnessTuned(PruningRun run, Candidate candidate, int epochs)
    {
        if (epochs == 0) return candidate;
        var plain = run.Options with { DistillationWeight = 0 };
        return new FineTuner(plain, run.Data.Training, null).Run(candidate, epochs, null, null, null, run.Cancellation).Trained;
    }
}
