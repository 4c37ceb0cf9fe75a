using System.Diagnostics;
using System.Numerics.Tensors;
using Acp.Engine.Data;
using Acp.Engine.Execution;
using Acp.Engine.Kernels;

namespace Acp.Engine.Training;

/// <summary>Knowledge distillation from a teacher network: loss = (1 − Weight)·CE + Weight·KL(teacher ‖ student)·T².</summary>
/// <param name="Teacher">The original (unpruned) network, run in inference mode.</param>
/// <param name="Temperature">Softmax temperature T.</param>
/// <param name="Weight">Share of the distillation term, 0..1.</param>
public sealed record DistillationOptions(Network Teacher, float Temperature = 4f, float Weight = 0.7f);

/// <summary>How to train.</summary>
public sealed record TrainingOptions
{
    /// <summary>Passes over the training data.</summary>
    public int Epochs { get; init; } = 1;

    /// <summary>Learning rate per step over the whole run.</summary>
    public ILearningRateSchedule Schedule { get; init; } = new CosineSchedule(0.05f);

    /// <summary>Optimizer settings.</summary>
    public SgdOptions Sgd { get; init; } = new();

    /// <summary>Label smoothing ε of the cross-entropy.</summary>
    public float LabelSmoothing { get; init; }

    /// <summary>Distil from a teacher, or null for plain cross-entropy.</summary>
    public DistillationOptions? Distillation { get; init; }
}

/// <summary>One training step's report.</summary>
public sealed record TrainingProgress(int Epoch, int Epochs, int Batch, int Batches, double Loss, float LearningRate);

/// <summary>One epoch's summary.</summary>
public sealed record EpochResult(int Epoch, double MeanLoss, double TrainAccuracy, TimeSpan Elapsed);

/// <summary>Mini-batch SGD training of a <see cref="Network"/>; deterministic for a seed (loader, network and kernels).</summary>
public sealed class Trainer
{
    private readonly Network _network;
    private readonly BatchLoader _loader;
    private readonly TrainingOptions _options;
    private readonly SgdOptimizer _optimizer;
    private float[] _gradient = [];
    private float[] _distillGradient = [];
    private float[] _teacherLogits = [];

    /// <summary>Prepares to train <paramref name="network"/> on <paramref name="loader"/>'s batches.</summary>
    public Trainer(Network network, BatchLoader loader, TrainingOptions? options = null)
    {
        _network = network ?? throw new ArgumentNullException(nameof(network));
        _loader = loader ?? throw new ArgumentNullException(nameof(loader));
        _options = options ?? new TrainingOptions();
        _optimizer = new SgdOptimizer(network.Parameters, _options.Sgd);
    }

    /// <summary>The optimizer, whose state a checkpoint saves (<see cref="SgdOptimizer.ExportState"/>).</summary>
    public SgdOptimizer Optimizer => _optimizer;

    /// <summary>Total optimizer steps of the run.</summary>
    public int TotalSteps => _options.Epochs * _loader.BatchCount;

    /// <summary>Trains one epoch (0-based <paramref name="epoch"/>; the schedule position follows from it).</summary>
    public EpochResult TrainEpoch(int epoch, IProgress<TrainingProgress>? progress = null, CancellationToken cancellation = default)
    {
        var clock = Stopwatch.StartNew();
        _network.Training = true;
        var buffer = _loader.CreateBatch();
        double lossSum = 0;
        long correct = 0, images = 0;
        var step = epoch * _loader.BatchCount;
        var batchNumber = 0;
        foreach (var batch in _loader.GetBatches(epoch, buffer))
        {
            cancellation.ThrowIfCancellationRequested();
            var teacherLogits = _options.Distillation is { } kd ? TeacherLogits(kd.Teacher, batch) : null;
            var logits = _network.Forward(batch.Shape, batch.ImageSpan);
            var classes = logits.Length / batch.Count;
            correct += CountCorrect(logits.Data, batch, classes);
            if (_gradient.Length != logits.Length) _gradient = new float[logits.Length];
            var loss = Losses.SoftmaxCrossEntropy(batch.Count, classes, logits.Data, batch.Labels, _options.LabelSmoothing, _gradient);
            if (_options.Distillation is { } d)
            {
                if (_distillGradient.Length != logits.Length) _distillGradient = new float[logits.Length];
                var kl = Losses.Distillation(batch.Count, classes, logits.Data, teacherLogits!, d.Temperature, _distillGradient);
                loss = (1 - d.Weight) * loss + d.Weight * kl;
                TensorPrimitives.Multiply(_gradient, 1 - d.Weight, _gradient);
                TensorPrimitives.MultiplyAdd(_distillGradient, d.Weight, _gradient, _gradient);
            }
            if (!float.IsFinite(loss))
            {
                throw new EngineException($"Training diverged: the loss became {loss} at epoch {epoch + 1}, batch {batchNumber + 1}; lower the learning rate.");
            }
            _network.Backward(_gradient);
            var rate = _options.Schedule.At(step, TotalSteps);
            _optimizer.Step(rate);
            lossSum += loss * batch.Count;
            images += batch.Count;
            step++;
            batchNumber++;
            progress?.Report(new TrainingProgress(epoch, _options.Epochs, batchNumber, _loader.BatchCount, loss, rate));
        }
        return new EpochResult(epoch, lossSum / Math.Max(1, images), correct / (double)Math.Max(1, images), clock.Elapsed);
    }

    private float[] TeacherLogits(Network teacher, Batch batch)
    {
        teacher.Training = false;
        var logits = teacher.Forward(batch.Shape, batch.ImageSpan);
        if (_teacherLogits.Length != logits.Length) _teacherLogits = new float[logits.Length];
        logits.Data.AsSpan().CopyTo(_teacherLogits);
        return _teacherLogits;
    }

    private static int CountCorrect(float[] logits, Batch batch, int classes)
    {
        var correct = 0;
        for (var i = 0; i < batch.Count; i++)
        {
            if (TensorPrimitives.IndexOfMax(logits.AsSpan(i * classes, classes)) == batch.Labels[i]) correct++;
        }
        return correct;
    }
}
