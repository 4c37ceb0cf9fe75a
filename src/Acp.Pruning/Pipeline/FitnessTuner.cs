using Acp.Engine.Backends;
using Acp.Data;
using Acp.Engine.Training;

namespace Acp.Pruning.Pipeline;

/// <summary>
/// A few steps of distilled fine-tuning given to every candidate before it is scored, so that the search ranks
/// structures by how well they recover rather than by how much accuracy survives the cut alone.
/// </summary>
/// <remarks>
/// At deep cuts, inherited weights with re-fitted BatchNormalization score 10–50 % on Fashion-MNIST and rank
/// structures poorly against their accuracy after fine-tuning; a few dozen steps of the real fine-tuning's loss
/// rank them much better (docs/benchmarks.md). Every candidate sees the same batches in the same order at the same
/// constant rate, so scores compare structures, not luck; the teacher's logits for those batches are computed once.
/// </remarks>
internal sealed class FitnessTuner
{
    private readonly BatchLoader _batches;
    private readonly float[][] _teacherLogits;
    private readonly NetworkDistillation? _distillation;
    private readonly PruningOptions _options;

    public FitnessTuner(ITrainableNetwork teacher, BatchLoader batches, PruningOptions options, CancellationToken cancellation)
    {
        _batches = batches;
        _options = options;
        _distillation = options.DistillationWeight > 0
            // The teacher's logits are computed once here and passed to every step.
            ? new NetworkDistillation(null, options.DistillationTemperature, options.DistillationWeight)
            : null;
        var logits = new List<float[]>();
        if (_distillation is not null)
        {
            foreach (var batch in batches.GetBatches(0))
            {
                cancellation.ThrowIfCancellationRequested();
                var output = teacher.Forward(batch.Shape, batch.ImageSpan, training: false);
                logits.Add(output.Data.ToArray());
            }
        }
        _teacherLogits = logits.ToArray();
        // The teacher is idle until fine-tuning: its buffers would sit beside every candidate's.
        teacher.ReleaseBuffers();
    }

    /// <summary>The same with an engine network as the teacher.</summary>
    public FitnessTuner(Acp.Engine.Execution.Network teacher, BatchLoader batches, PruningOptions options, CancellationToken cancellation)
        : this(new EngineNetwork(teacher), batches, options, cancellation)
    {
    }

    /// <summary>Optimizer steps each candidate gets.</summary>
    public int Steps => _batches.BatchCount;

    /// <summary>Trains <paramref name="candidate"/> in place for <see cref="Steps"/> steps.</summary>
    public void Tune(ITrainableNetwork candidate, CancellationToken cancellation)
    {
        using var trainer = candidate.CreateTrainer(new NetworkTrainingOptions
        {
            Sgd = new SgdOptions { Momentum = 0.9f, Nesterov = true, WeightDecay = _options.WeightDecay },
            Distillation = _distillation,
        });
        var index = 0;
        foreach (var batch in _batches.GetBatches(0))
        {
            cancellation.ThrowIfCancellationRequested();
            trainer.Step(batch, _options.LearningRate, _distillation is null ? default : _teacherLogits[index]);
            index++;
        }
    }
}
