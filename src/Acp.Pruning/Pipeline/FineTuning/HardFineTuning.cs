namespace Acp.Pruning.Pipeline;

/// <summary>
/// Cut first, then train: the structure's channels are removed by surgery, BatchNormalization re-fitted (and, for the
/// paper's search, the structure's fitness fine-tune re-run), and the pruned network is fine-tuned with a cosine
/// schedule and distillation from the original (<see cref="FineTuner"/>).
/// </summary>
internal sealed class HardFineTuning : IFineTuning
{
    public StartingPoint Build(PruningRun run, StructureChoice structure)
    {
        var builder = run.Builder(structure.Ranking);
        var (pruned, _) = builder.Prune(structure.Widths);
        var candidate = new Candidate(pruned, builder.Recalibrated(pruned, run.Cancellation));
        // The paper's code retrains gbest from the weights of its fitness fine-tune; that fine-tune is deterministic, so
        // it is re-run here instead of being kept from the search (which a resumed run may not have done).
        candidate = PaperAcpSearch.FitnessTuned(run, candidate, structure.FitnessEpochs);
        return new StartingPoint(candidate, run.ValidationAccuracy(candidate.Network));
    }

    public FineTuned Train(PruningRun run, StructureChoice structure, StartingPoint start)
    {
        var keep = structure.Ranking.KeepSets(structure.Widths);
        var (trained, losses) = new FineTuner(run.Options, run.Data.Training, run.Teacher)
            .Run(start.Candidate, run.Options.Epochs, run.Store, null, run.Progress, run.Cancellation);
        return new FineTuned(trained.ToModel(), keep, losses);
    }

    public IEnumerable<StageEstimate> Estimate(PruningRun run, WorkRates rates)
    {
        var (options, data) = (run.Options, run.Data);
        var images = (long)options.Epochs * data.Training.ImagesPerEpoch;
        var seconds = rates.Candidate(data, data.Validation.ImagesPerEpoch) + rates.PrunedTraining(images, run.Teacher is not null);
        yield return new(PruningStage.FineTuning, StageEstimates.Seconds(seconds), $"{options.Epochs} epochs of {data.Training.ImagesPerEpoch} images");
    }
}
