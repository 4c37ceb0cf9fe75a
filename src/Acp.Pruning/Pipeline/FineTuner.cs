using Acp.Engine.Data;
using Acp.Engine.Execution;
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
    private readonly Network? _teacher;

    public FineTuner(PruningOptions options, BatchLoader training, Network? teacher)
    {
        _options = options;
        _training = training;
        _teacher = teacher;
    }

    /// <summary>
    /// Trains <paramref name="epochs"/> epochs starting from <paramref name="model"/> (whose initializers receive the
    /// trained weights) and returns the network and each epoch's mean loss.
    /// </summary>
    /// <param name="model">The starting weights; overwritten with the result.</param>
    /// <param name="epochs">Epochs to train.</param>
    /// <param name="store">Where checkpoints go, or null for none.</param>
    /// <param name="afterEpoch">Called after each epoch's optimizer steps and before its checkpoint (soft pruning).</param>
    /// <param name="progress">Per-batch progress.</param>
    /// <param name="cancellation">Checked every batch.</param>
    /// <param name="resumed">Called once with the checkpoint's epoch when the run continues from a checkpoint, to restore
    /// state that lives outside the weights (soft pruning's masks).</param>
    public (Network Network, OnnxModel Model, double[] Losses) Run(OnnxModel model, int epochs, RunStore? store, Action<int, Network>? afterEpoch,
        IProgress<PruningProgress>? progress, CancellationToken cancellation, Action<int, Network>? resumed = null)
    {
        var losses = new List<double>();
        var start = 0;
        byte[]? optimizerState = null;
        if (store?.LoadCheckpoint() is { } checkpoint && checkpoint.Epoch < epochs)
        {
            model = ReplaceWeights(model, checkpoint.Model!);
            losses.AddRange(checkpoint.Losses);
            optimizerState = checkpoint.Optimizer;
            start = checkpoint.Epoch + 1;
        }
        var network = Network.Build(model, _options.Seed);
        if (start > 0) resumed?.Invoke(start - 1, network);
        if (epochs == 0 || start >= epochs) return (network, model, losses.ToArray());

        var trainingOptions = new TrainingOptions
        {
            Epochs = epochs,
            Schedule = new CosineSchedule(_options.LearningRate),
            Sgd = new SgdOptions { Momentum = 0.9f, Nesterov = true, WeightDecay = _options.WeightDecay },
            Distillation = _teacher is not null && _options.DistillationWeight > 0
                ? new DistillationOptions(_teacher, _options.DistillationTemperature, _options.DistillationWeight)
                : null,
        };
        var trainer = new Trainer(network, _training, trainingOptions);
        if (optimizerState is not null) trainer.Optimizer.ImportState(optimizerState);
        var batches = (long)_training.BatchCount * epochs;
        for (var epoch = start; epoch < epochs; epoch++)
        {
            var done = (long)_training.BatchCount * epoch;
            var epochProgress = progress is null ? null : new CallbackProgress<TrainingProgress>(p =>
                progress.Report(new PruningProgress(PruningStage.FineTuning, done + p.Batch, batches,
                    $"epoch {p.Epoch + 1}/{epochs}, loss {p.Loss:0.0000}", Epoch: p.Epoch)));
            var result = trainer.TrainEpoch(epoch, epochProgress, cancellation);
            afterEpoch?.Invoke(epoch, network);
            losses.Add(result.MeanLoss);
            network.WriteWeightsTo(model);
            store?.SaveCheckpoint(new FineTuneCheckpoint(epoch, losses.ToArray(), trainer.Optimizer.ExportState(), model));
        }
        return (network, model, losses.ToArray());
    }

    /// <summary>The checkpoint's weights, which were written into a copy of this same pruned model.</summary>
    private static OnnxModel ReplaceWeights(OnnxModel model, OnnxModel checkpoint)
    {
        foreach (var initializer in checkpoint.Graph.Initializers)
        {
            if (!model.Graph.Initializers.Contains(initializer.Name) && model.Graph.Nodes.All(n => !n.Outputs.Contains(initializer.Name)))
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
