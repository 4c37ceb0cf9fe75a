using Acp.Engine.Backends;
using Acp.Data;
using Acp.Engine.Training;
using Acp.Onnx.Ir;

namespace Acp.Pruning.Pipeline;

/// <summary>
/// Fine-tunes a network epoch by epoch with a cosine schedule, optionally distilling from the original, and saves a
/// checkpoint after each epoch so that a killed run resumes at the next one with identical results.
/// </summary>
internal sealed class FineTuner
{
    private readonly PruningOptions _options;
    private readonly BatchLoader _training;
    private readonly ITrainableNetwork? _teacher;
    private readonly Func<NetworkTrainingOptions, NetworkTrainingOptions>? _losses;

    /// <param name="options">The run's options (schedule, distillation).</param>
    /// <param name="training">The training batches.</param>
    /// <param name="teacher">The distillation teacher, or null.</param>
    /// <param name="losses">Adds loss terms to the trainer's options (AIP's knowledge transfer), or null.</param>
    public FineTuner(PruningOptions options, BatchLoader training, ITrainableNetwork? teacher,
        Func<NetworkTrainingOptions, NetworkTrainingOptions>? losses = null)
    {
        _options = options;
        _training = training;
        _teacher = teacher;
        _losses = losses;
    }

    /// <summary>
    /// Trains <paramref name="candidate"/>'s network for <paramref name="epochs"/> epochs and returns the trained
    /// candidate (the same one, or on resume the one built from the checkpoint) and each epoch's mean loss.
    /// </summary>
    /// <param name="candidate">The starting point; taken over (on resume it is disposed and replaced).</param>
    /// <param name="epochs">Epochs to train.</param>
    /// <param name="store">Where checkpoints go, or null for none.</param>
    /// <param name="afterEpoch">Called after each epoch's optimizer steps and before its checkpoint (soft pruning).</param>
    /// <param name="progress">Per-batch progress.</param>
    /// <param name="cancellation">Checked every batch.</param>
    /// <param name="resumed">Called once with the checkpoint's epoch when the run continues from a checkpoint, to restore
    /// state that lives outside the weights (soft pruning's masks).</param>
    public (Candidate Trained, double[] Losses) Run(Candidate candidate, int epochs, RunStore? store, Action<int, ITrainableNetwork>? afterEpoch,
        IProgress<PruningProgress>? progress, CancellationToken cancellation, Action<int, ITrainableNetwork>? resumed = null)
    {
        var losses = new List<double>();
        var start = 0;
        byte[]? optimizerState = null;
        if (store?.LoadCheckpoint() is { } checkpoint && checkpoint.Epoch < epochs)
        {
            // The checkpoint's graph replaces the candidate's: it holds the weights, and it is the graph they go back to.
            var graph = Checked(candidate, checkpoint.Model!);
            candidate.Dispose();
            candidate = new Candidate(graph, _options.Backend.Build(graph, _options.Seed));
            losses.AddRange(checkpoint.Losses);
            optimizerState = checkpoint.Optimizer;
            start = checkpoint.Epoch + 1;
        }
        var network = candidate.Network;
        if (start > 0) resumed?.Invoke(start - 1, network);
        if (epochs == 0 || start >= epochs) return (candidate, losses.ToArray());

        // The checkpoint's own copy of the graph: the candidate's graph is written once, at the hand-over.
        var snapshot = store is null ? null : candidate.CloneGraph();
        var schedule = new CosineSchedule(_options.LearningRate);
        var trainingOptions = new NetworkTrainingOptions
        {
            Sgd = new SgdOptions { Momentum = 0.9f, Nesterov = true, WeightDecay = _options.WeightDecay },
            Distillation = _teacher is not null && _options.DistillationWeight > 0
                ? new NetworkDistillation(_teacher, _options.DistillationTemperature, _options.DistillationWeight)
                : null,
        };
        using var trainer = network.CreateTrainer(_losses is null ? trainingOptions : _losses(trainingOptions));
        if (optimizerState is not null) trainer.ImportState(optimizerState);
        var batches = (long)_training.BatchCount * epochs;
        for (var epoch = start; epoch < epochs; epoch++)
        {
            var done = (long)_training.BatchCount * epoch;
            var epochClock = System.Diagnostics.Stopwatch.StartNew();
            var epochProgress = progress is null ? null : new CallbackProgress<TrainingProgress>(p =>
                progress.Report(new PruningProgress(PruningStage.FineTuning, done + p.Batch, batches,
                    $"epoch {p.Epoch + 1}/{epochs}, loss {p.Loss:0.0000}", Epoch: p.Epoch)
                {
                    // Every batch but an epoch's last is full.
                    ImagesPerSecond = Math.Min((long)p.Batch * _training.Options.BatchSize, _training.ImagesPerEpoch) / Math.Max(1e-9, epochClock.Elapsed.TotalSeconds),
                }));
            var meanLoss = TrainEpoch(trainer, schedule, epoch, epochs, epochProgress, cancellation);
            afterEpoch?.Invoke(epoch, network);
            losses.Add(meanLoss);
            if (store is not null)
            {
                network.WriteWeightsTo(snapshot!);
                store.SaveCheckpoint(new FineTuneCheckpoint(epoch, losses.ToArray(), trainer.ExportState(), snapshot));
            }
        }
        return (candidate, losses.ToArray());
    }

    /// <summary>
    /// One epoch of steps on the loader's batches for <paramref name="epoch"/>, the learning rate following
    /// <paramref name="schedule"/> over all epochs' steps (the engine's <see cref="Trainer.TrainEpoch"/>, step for step);
    /// returns the epoch's mean loss per image.
    /// </summary>
    private double TrainEpoch(INetworkTrainer trainer, ILearningRateSchedule schedule, int epoch, int epochs,
        IProgress<TrainingProgress>? progress, CancellationToken cancellation)
    {
        var batchCount = _training.BatchCount;
        var totalSteps = epochs * batchCount;
        var step = epoch * batchCount;
        var batchNumber = 0;
        double lossSum = 0;
        long images = 0;
        foreach (var batch in _training.GetBatches(epoch, _training.CreateBatch()))
        {
            cancellation.ThrowIfCancellationRequested();
            var rate = schedule.At(step, totalSteps);
            var result = trainer.Step(batch, rate);
            lossSum += result.Loss * batch.Count;
            images += batch.Count;
            step++;
            batchNumber++;
            progress?.Report(new TrainingProgress(epoch, epochs, batchNumber, batchCount, result.Loss, rate));
        }
        return lossSum / Math.Max(1, images);
    }

    /// <summary>The checkpoint's graph, which must be a copy of the candidate's with other weights.</summary>
    private static OnnxModel Checked(Candidate candidate, OnnxModel checkpoint)
    {
        foreach (var initializer in checkpoint.Graph.Initializers)
        {
            if (!candidate.Defines(initializer.Name))
            {
                throw new IOException($"The fine-tuning checkpoint holds a weight '{initializer.Name}' the pruned model does not have; it belongs to another run.");
            }
        }
        return checkpoint;
    }

}

/// <summary>Reports on the calling thread (Progress&lt;T&gt; posts to the thread pool, which reorders reports).</summary>
internal sealed class CallbackProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
