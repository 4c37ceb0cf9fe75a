using Acp.Data;
using Acp.Engine.Execution;
using Acp.Engine.Tensors;
using Acp.Engine.Training;
using Acp.Onnx.Ir;

namespace Acp.Engine.Backends;

/// <summary>Acp's own CPU engine behind the seam: the default backend; its results are those of <see cref="Network"/> and <see cref="Trainer"/> themselves.</summary>
public sealed record EngineBackend : IComputeBackend
{
    /// <summary>The engine (it has one device, the CPU).</summary>
    public static EngineBackend Instance { get; } = new();

    /// <inheritdoc />
    public string Name => "engine";

    /// <inheritdoc />
    public string Device => "cpu";

    /// <inheritdoc />
    public bool TransfersKnowledge => true;

    /// <inheritdoc />
    public ITrainableNetwork Build(OnnxModel model, int seed) => new EngineNetwork(Network.Build(model, seed));

    /// <inheritdoc />
    public override string ToString() => $"{Name} ({Device})";
}

/// <summary>A <see cref="Network"/> as an <see cref="ITrainableNetwork"/>.</summary>
public sealed class EngineNetwork : ITrainableNetwork
{
    /// <summary>Wraps <paramref name="network"/>.</summary>
    public EngineNetwork(Network network) => Network = network ?? throw new ArgumentNullException(nameof(network));

    /// <summary>The engine's network.</summary>
    public Network Network { get; }

    /// <inheritdoc />
    public IEnumerable<string> ComputedValues => Network.ComputedValues;

    /// <inheritdoc />
    public IReadOnlyList<string> ParameterNames => Network.Parameters.Select(p => p.Name).ToArray();

    /// <inheritdoc />
    public Tensor Forward(int[] shape, ReadOnlySpan<float> images, bool training = false)
    {
        Network.Training = training;
        return Network.Forward(shape, images);
    }

    /// <inheritdoc />
    public IDisposable Capture(string value, Action<Tensor> observer) => Network.Capture(value, observer);

    /// <inheritdoc />
    public void SetChannelMask(string value, bool[]? keep) => Network.SetChannelMask(value, keep);

    /// <inheritdoc />
    public void RefitBatchNorm(IReadOnlyList<Tensor> batches, CancellationToken cancellation = default) => Network.RecalibrateBatchNorm(batches, cancellation);

    /// <inheritdoc />
    public (int Correct, int Images) Score(IEnumerable<Batch> batches, CancellationToken cancellation = default)
    {
        var result = Evaluation.Accuracy(Network, batches, cancellation: cancellation);
        return ((int)Math.Round(result.Top1 * result.Images), result.Images);
    }

    /// <inheritdoc />
    public INetworkTrainer CreateTrainer(NetworkTrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.TransfersKnowledge) return new EngineTransferTrainer(this, options);
        return new EngineNetworkTrainer(this, options);
    }

    /// <inheritdoc />
    public (int[] Shape, float[] Data) ReadParameter(string name)
    {
        var value = Find(name).Value;
        return (value.Shape.ToArray(), value.Data.ToArray());
    }

    /// <inheritdoc />
    public void WriteParameter(string name, ReadOnlySpan<float> data)
    {
        var value = Find(name).Value;
        if (data.Length != value.Data.Length) throw new ArgumentException($"Parameter '{name}' has {value.Data.Length} values; {data.Length} given.", nameof(data));
        data.CopyTo(value.Data);
    }

    /// <inheritdoc />
    public void WriteWeightsTo(OnnxModel model) => Network.WriteWeightsTo(model);

    /// <summary>
    /// Drops the network's activation, gradient and scratch buffers (hundreds of MB at a training batch) at once, so a
    /// run that builds a network per candidate holds one candidate's buffers at a time, not as many as the garbage
    /// collector has yet to reclaim. The weights stay readable.
    /// </summary>
    public void Dispose() => Network.ReleaseBuffers();

    /// <inheritdoc />
    public void ReleaseBuffers() => Network.ReleaseBuffers();

    private Parameter Find(string name) =>
        Network.Parameters.FirstOrDefault(p => p.Name == name) ?? throw new KeyNotFoundException($"No trainable parameter named '{name}'.");

    /// <summary>The engine's <see cref="TransferTrainer"/>: distillation plus attention transfer and/or the adversarial term.</summary>
    private sealed class EngineTransferTrainer : INetworkTrainer
    {
        private readonly TransferTrainer _trainer;

        public EngineTransferTrainer(EngineNetwork student, NetworkTrainingOptions options)
        {
            var kd = options.Distillation ?? throw new ArgumentException("Attention transfer and the adversarial term need a distillation teacher.", nameof(options));
            var teacher = (kd.Teacher as EngineNetwork)?.Network
                ?? throw new NotSupportedException("Attention transfer and the adversarial term need a teacher network of the engine backend.");
            _trainer = new TransferTrainer(student.Network, teacher, options.Sgd, options.LabelSmoothing, kd.Temperature, kd.Weight,
                options.AttentionTransfer, options.Adversarial);
        }

        public StepResult Step(Batch batch, float rate, ReadOnlySpan<float> teacherLogits = default)
        {
            if (!teacherLogits.IsEmpty) throw new ArgumentException("Knowledge transfer runs the teacher itself (it needs its feature maps); pass no logits.", nameof(teacherLogits));
            return _trainer.Step(batch, rate);
        }

        public byte[] ExportState() => _trainer.ExportState();

        public void ImportState(byte[] state)
        {
            ArgumentNullException.ThrowIfNull(state);
            if (state.Length > 0) _trainer.ImportState(state);
        }

        public void Dispose() => _trainer.Dispose();
    }

    /// <summary>The engine's <see cref="Trainer"/>; a teacher from another backend is run here and its logits passed in.</summary>
    private sealed class EngineNetworkTrainer : INetworkTrainer
    {
        private readonly Trainer _trainer;
        private readonly ITrainableNetwork? _foreignTeacher;
        private readonly bool _teacherless;

        public EngineNetworkTrainer(EngineNetwork student, NetworkTrainingOptions options)
        {
            var kd = options.Distillation;
            var engineTeacher = (kd?.Teacher as EngineNetwork)?.Network;
            _foreignTeacher = engineTeacher is null ? kd?.Teacher : null;
            var distillation = kd is null ? null
                // A teacher-less distillation is driven by the caller's logits; the engine's options need some network.
                : new DistillationOptions(engineTeacher ?? student.Network, kd.Temperature, kd.Weight);
            _teacherless = kd is not null && kd.Teacher is null;
            _trainer = new Trainer(student.Network, new TrainingOptions
            {
                Sgd = options.Sgd,
                LabelSmoothing = options.LabelSmoothing,
                Distillation = distillation,
            });
        }

        public StepResult Step(Batch batch, float rate, ReadOnlySpan<float> teacherLogits = default)
        {
            if (teacherLogits.IsEmpty && _teacherless) throw new ArgumentException("Distillation without a teacher needs the teacher's logits for every step.", nameof(teacherLogits));
            if (teacherLogits.IsEmpty && _foreignTeacher is not null) teacherLogits = _foreignTeacher.Forward(batch.Shape, batch.ImageSpan).Data;
            return _trainer.Step(batch, rate, teacherLogits);
        }

        public byte[] ExportState() => _trainer.Optimizer.ExportState();

        public void ImportState(byte[] state)
        {
            ArgumentNullException.ThrowIfNull(state);
            if (state.Length > 0) _trainer.Optimizer.ImportState(state);
        }

        public void Dispose() { }
    }
}
