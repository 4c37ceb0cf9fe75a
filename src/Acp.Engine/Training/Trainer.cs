using System.Diagnostics;
using System.Numerics.Tensors;
using Acp.Data;
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

/// <summary>One optimizer step's loss and how many of the batch's images the student classified right before it.</summary>
public readonly record struct StepResult(double Loss, int Correct);

/// <summary>One epoch's summary.</summary>
public sealed record EpochResult(int Epoch, double MeanLoss, double TrainAccuracy, TimeSpan Elapsed);

/// <summary>Mini-batch SGD training of a <see cref="Network"/>; deterministic for a seed (loader, network and kernels).</summary>
public sealed class Trainer
{
    private readonly Network _network;
    private readonly BatchLoader? _loader;
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

    /// <summary>Prepares to train <paramref name="network"/> one <see cref="Step(Batch, float, ReadOnlySpan{float})"/> at a time, for callers that drive the batches themselves.</summary>
    public Trainer(Network network, TrainingOptions? options)
    {
        _network = network ?? throw new ArgumentNullException(nameof(network));
        _options = options ?? new TrainingOptions();
        _optimizer = new SgdOptimizer(network.Parameters, _options.Sgd);
    }

    /// <summary>The optimizer, whose state a checkpoint saves (<see cref="SgdOptimizer.ExportState"/>).</summary>
    public SgdOptimizer Optimizer => _optimizer;

    /// <summary>Total optimizer steps of the run.</summary>
    public int TotalSteps => _options.Epochs * Loader.BatchCount;

    private BatchLoader Loader => _loader ?? throw new InvalidOperationException("This trainer was made without a batch loader; it trains by Step only.");

    /// <summary>Trains one epoch (0-based <paramref name="epoch"/>; the schedule position follows from it).</summary>
    public EpochResult TrainEpoch(int epoch, IProgress<TrainingProgress>? progress = null, CancellationToken cancellation = default)
    {
        var clock = Stopwatch.StartNew();
        _network.Training = true;
        var loader = Loader;
        var buffer = loader.CreateBatch();
        double lossSum = 0;
        long correct = 0, images = 0;
        var step = epoch * loader.BatchCount;
        var batchNumber = 0;
        foreach (var batch in loader.GetBatches(epoch, buffer))
        {
            cancellation.ThrowIfCancellationRequested();
            var rate = _options.Schedule.At(step, TotalSteps);
            var result = Step(batch, rate, default, $"at epoch {epoch + 1}, batch {batchNumber + 1}");
            correct += result.Correct;
            lossSum += result.Loss * batch.Count;
            images += batch.Count;
            step++;
            batchNumber++;
            progress?.Report(new TrainingProgress(epoch, _options.Epochs, batchNumber, loader.BatchCount, result.Loss, rate));
        }
        return new EpochResult(epoch, lossSum / Math.Max(1, images), correct / (double)Math.Max(1, images), clock.Elapsed);
    }

    /// <summary>
    /// One optimizer step on <paramref name="batch"/> at learning rate <paramref name="rate"/>, outside any schedule:
    /// for callers that drive training themselves (a pruning search tunes each candidate for a few steps).
    /// </summary>
    /// <param name="batch">Images and labels.</param>
    /// <param name="rate">Learning rate of this step.</param>
    /// <param name="teacherLogits">The teacher's logits for this batch (batch × classes), computed once by a caller that
    /// trains many students on the same batches; empty = run the distillation teacher, if any.</param>
    /// <exception cref="ArgumentException">Teacher logits of the wrong length, or given without distillation options.</exception>
    /// <exception cref="EngineException">The loss is not finite.</exception>
    public StepResult Step(Batch batch, float rate, ReadOnlySpan<float> teacherLogits = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        return Step(batch, rate, teacherLogits, "in a single step");
    }

    private StepResult Step(Batch batch, float rate, ReadOnlySpan<float> teacherLogits, string position)
    {
        if (!teacherLogits.IsEmpty && _options.Distillation is null)
        {
            throw new ArgumentException("Teacher logits were given, but the training options have no distillation.", nameof(teacherLogits));
        }
        _network.Training = true;
        var kd = _options.Distillation;
        var teacher = kd is null ? null : teacherLogits.IsEmpty ? TeacherLogits(kd.Teacher, batch) : Copy(teacherLogits);
        var logits = _network.Forward(batch.Shape, batch.ImageSpan);
        var classes = logits.Length / batch.Count;
        if (teacher is not null && teacher.Length != logits.Length)
        {
            throw new ArgumentException($"{teacher.Length} teacher logits for a batch of {batch.Count} × {classes}.", nameof(teacherLogits));
        }
        var correct = CountCorrect(logits.Data, batch, classes);
        if (_gradient.Length != logits.Length) _gradient = new float[logits.Length];
        var loss = Losses.SoftmaxCrossEntropy(batch.Count, classes, logits.Data, batch.Labels, _options.LabelSmoothing, _gradient);
        if (kd is not null)
        {
            if (_distillGradient.Length != logits.Length) _distillGradient = new float[logits.Length];
            var kl = Losses.Distillation(batch.Count, classes, logits.Data, teacher!, kd.Temperature, _distillGradient);
            loss = (1 - kd.Weight) * loss + kd.Weight * kl;
            TensorPrimitives.Multiply(_gradient, 1 - kd.Weight, _gradient);
            TensorPrimitives.MultiplyAdd(_distillGradient, kd.Weight, _gradient, _gradient);
        }
        if (!float.IsFinite(loss)) throw new EngineException($"Training diverged: the loss became {loss} {position}; lower the learning rate.");
        _network.Backward(_gradient);
        _optimizer.Step(rate);
        return new StepResult(loss, correct);
    }

    private float[] TeacherLogits(Network teacher, Batch batch)
    {
        teacher.Training = false;
        var logits = teacher.Forward(batch.Shape, batch.ImageSpan);
        if (_teacherLogits.Length != logits.Length) _teacherLogits = new float[logits.Length];
        logits.Data.AsSpan().CopyTo(_teacherLogits);
        return _teacherLogits;
    }

    private float[] Copy(ReadOnlySpan<float> teacherLogits)
    {
        if (_teacherLogits.Length != teacherLogits.Length) _teacherLogits = new float[teacherLogits.Length];
        teacherLogits.CopyTo(_teacherLogits);
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
