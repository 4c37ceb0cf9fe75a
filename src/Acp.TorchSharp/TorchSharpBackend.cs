using Acp.Onnx;
using Acp.Engine.Backends;
using Acp.Data;
using Acp.Engine.Training;
using Acp.Onnx.Ir;
using static TorchSharp.torch;
using EngineTensor = Acp.Engine.Tensors.Tensor;

namespace Acp.TorchSharp;

/// <summary>
/// TorchSharp (LibTorch) behind Acp's compute-backend seam: a pruning run searches, trains and scores on a
/// <see cref="Acp.Onnx.ComputeDevice"/> (the CPU, or a CUDA GPU when the application references a CUDA build of LibTorch).
/// </summary>
public sealed class TorchSharpBackend : IComputeBackend, IEquatable<TorchSharpBackend>
{
    /// <summary>Computes on <paramref name="device"/> (default: the CPU). Nothing native is loaded until the first network.</summary>
    public TorchSharpBackend(ComputeDevice device = default) => ComputeDevice = device;

    /// <summary>The backend on the device <paramref name="device"/> names (<c>cpu</c>, <c>cuda</c>, <c>cuda:N</c>).</summary>
    /// <exception cref="FormatException">An unknown device name.</exception>
    public static TorchSharpBackend Parse(string device) => new(ComputeDevice.Parse(device));

    /// <summary>Where the networks live.</summary>
    public ComputeDevice ComputeDevice { get; }

    /// <inheritdoc />
    public string Name => "torchsharp";

    /// <inheritdoc />
    public string Device => ComputeDevice.ToString();

    /// <inheritdoc />
    public bool TransfersKnowledge => true;

    /// <summary>Checks that the device is usable in this process (loads LibTorch).</summary>
    /// <exception cref="TorchBackendException">CUDA was asked for but is not available, or the index is out of range.</exception>
    public void EnsureAvailable() => TorchDevices.Resolve(ComputeDevice);

    /// <inheritdoc />
    /// <remarks>The seed is not used: the imported operators have nothing random in the modes the pipeline runs.</remarks>
    public ITrainableNetwork Build(OnnxModel model, int seed) => new TorchSharpNetwork(OnnxModule.Import(model, ComputeDevice));

    /// <inheritdoc />
    public bool Equals(TorchSharpBackend? other) => other is not null && other.ComputeDevice == ComputeDevice;

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as TorchSharpBackend);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Name, ComputeDevice);

    /// <inheritdoc />
    public override string ToString() => $"{Name} ({Device})";
}

/// <summary>An <see cref="OnnxModule"/> as an <see cref="ITrainableNetwork"/>.</summary>
public sealed class TorchSharpNetwork : ITrainableNetwork
{
    private readonly Dictionary<string, List<Action<EngineTensor>>> _observers = new(StringComparer.Ordinal);

    /// <summary>Wraps <paramref name="module"/> (and disposes it with this network).</summary>
    public TorchSharpNetwork(OnnxModule module) => Module = module ?? throw new ArgumentNullException(nameof(module));

    /// <summary>The TorchSharp module.</summary>
    public OnnxModule Module { get; }

    /// <inheritdoc />
    public IEnumerable<string> ComputedValues => Module.ComputedValues;

    /// <inheritdoc />
    public IReadOnlyList<string> ParameterNames => Module.ParameterNames;

    /// <inheritdoc />
    public EngineTensor Forward(int[] shape, ReadOnlySpan<float> images, bool training = false)
    {
        ArgumentNullException.ThrowIfNull(shape);
        using var scope = NewDisposeScope();
        using var noGrad = training ? null : no_grad();
        Module.train(training);
        var input = TorchTensors.FromFloats(images, shape.Select(d => (long)d).ToArray(), Module.Placement);
        var values = Module.Run(input, _observers.Keys.ToArray());
        foreach (var (name, observers) in _observers)
        {
            var value = ToEngine(values[name]);
            foreach (var observer in observers.ToArray()) observer(value);
        }
        return ToEngine(values[Module.OutputName]);
    }

    /// <inheritdoc />
    public IDisposable Capture(string value, Action<EngineTensor> observer)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(observer);
        if (!ComputedValues.Contains(value)) throw new ArgumentException($"'{value}' is not a value the network computes.", nameof(value));
        if (!_observers.TryGetValue(value, out var list)) _observers[value] = list = [];
        list.Add(observer);
        return new Unsubscriber(() =>
        {
            list.Remove(observer);
            if (list.Count == 0) _observers.Remove(value);
        });
    }

    /// <inheritdoc />
    public void SetChannelMask(string value, bool[]? keep) => Module.SetChannelMask(value, keep);

    /// <inheritdoc />
    public void RefitBatchNorm(IReadOnlyList<EngineTensor> batches, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(batches);
        Module.RefitBatchNorm(Tensors(batches, cancellation));
    }

    /// <summary>Each batch as a tensor, the previous one freed when the next is asked for (the module reads one at a time).</summary>
    private static IEnumerable<Tensor> Tensors(IReadOnlyList<EngineTensor> batches, CancellationToken cancellation)
    {
        foreach (var batch in batches)
        {
            cancellation.ThrowIfCancellationRequested();
            using var tensor = TorchTensors.FromFloats(batch.Data, batch.Shape.Select(d => (long)d).ToArray());
            yield return tensor;
        }
    }

    /// <inheritdoc />
    public (int Correct, int Images) Score(IEnumerable<Batch> batches, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(batches);
        var wasTraining = Module.training;
        Module.eval();
        try
        {
            using var noGrad = no_grad();
            var device = Module.Placement;
            int correct = 0, images = 0;
            foreach (var batch in batches)
            {
                cancellation.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                var logits = Module.forward(TorchTensors.FromFloats(batch.ImageSpan, batch.Shape.Select(d => (long)d).ToArray(), device));
                var classes = logits.shape[1];
                var labels = batch.LabelSpan;
                for (var i = 0; i < labels.Length; i++)
                {
                    if ((ulong)labels[i] >= (ulong)classes) throw new ArgumentException($"Label {labels[i]} of image {batch.Indices[i]} is outside the model's {classes} classes.", nameof(batches));
                }
                // argmax returns the first of equal maxima, as the engine's evaluation counts ties.
                var predicted = logits.argmax(1).to(CPU).data<long>().ToArray();
                for (var i = 0; i < labels.Length; i++) if (predicted[i] == labels[i]) correct++;
                images += batch.Count;
            }
            if (images == 0) throw new ArgumentException("No images to evaluate.", nameof(batches));
            return (correct, images);
        }
        finally
        {
            Module.train(wasTraining);
        }
    }

    /// <inheritdoc />
    /// <exception cref="NotSupportedException">Weight decay restricted to rank-2+ tensors (<c>DecayBiases = false</c>).</exception>
    public INetworkTrainer CreateTrainer(NetworkTrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!options.Sgd.DecayBiases) throw new NotSupportedException("The TorchSharp backend decays every parameter; DecayBiases = false is not supported.");
        return options.TransfersKnowledge ? new TorchTransferTrainer(this, options) : new Trainer(this, options);
    }

    /// <inheritdoc />
    public (int[] Shape, float[] Data) ReadParameter(string name)
    {
        var parameter = Module.Parameter(name);
        return (parameter.shape.Select(d => (int)d).ToArray(), TorchTensors.ToFloats(parameter));
    }

    /// <inheritdoc />
    public void WriteParameter(string name, ReadOnlySpan<float> data)
    {
        var parameter = Module.Parameter(name);
        if (data.Length != parameter.numel()) throw new ArgumentException($"Parameter '{name}' has {parameter.numel()} values; {data.Length} given.", nameof(data));
        using var noGrad = no_grad();
        using var source = TorchTensors.FromFloats(data, parameter.shape, parameter.device);
        parameter.copy_(source);
    }

    /// <inheritdoc />
    public void WriteWeightsTo(OnnxModel model) => Module.WriteWeightsTo(model);

    /// <summary>Frees the module's native tensors.</summary>
    public void Dispose() => Module.Dispose();

    /// <summary>The seam's training options as <see cref="TorchTrainer"/>'s.</summary>
    internal static TorchTrainingOptions TrainingOptions(NetworkTrainingOptions options) => new()
    {
        Momentum = options.Sgd.Momentum,
        Nesterov = options.Sgd.Nesterov,
        WeightDecay = options.Sgd.WeightDecay,
        LabelSmoothing = options.LabelSmoothing,
        Temperature = options.Distillation?.Temperature ?? 4f,
        DistillationWeight = options.Distillation?.Weight ?? 0f,
    };

    private static EngineTensor ToEngine(Tensor tensor) => new(tensor.shape.Select(d => (int)d).ToArray(), TorchTensors.ToFloats(tensor));

    private sealed class Unsubscriber(Action remove) : IDisposable
    {
        public void Dispose() => remove();
    }

    /// <summary><see cref="TorchTrainer"/> with the seam's options; a teacher (of any backend) is run when no logits are given.</summary>
    private sealed class Trainer : INetworkTrainer
    {
        private readonly TorchTrainer _trainer;
        private readonly NetworkDistillation? _distillation;

        public Trainer(TorchSharpNetwork network, NetworkTrainingOptions options)
        {
            _distillation = options.Distillation;
            _trainer = new TorchTrainer(network.Module, TrainingOptions(options));
        }

        public StepResult Step(Batch batch, float rate, ReadOnlySpan<float> teacherLogits = default)
        {
            ArgumentNullException.ThrowIfNull(batch);
            if (!teacherLogits.IsEmpty && _distillation is null) throw new ArgumentException("Teacher logits were given, but the training options have no distillation.", nameof(teacherLogits));
            if (teacherLogits.IsEmpty && _distillation is not null)
            {
                var teacher = _distillation.Teacher ?? throw new ArgumentException("Distillation without a teacher needs the teacher's logits for every step.", nameof(teacherLogits));
                teacherLogits = teacher.Forward(batch.Shape, batch.ImageSpan).Data;
            }
            var result = _trainer.Step(batch.ImageSpan, batch.Shape.Select(d => (long)d).ToArray(), batch.LabelSpan, rate, teacherLogits);
            return new StepResult(result.Loss, result.Correct);
        }

        public byte[] ExportState() => _trainer.ExportState();

        public void ImportState(byte[] state)
        {
            ArgumentNullException.ThrowIfNull(state);
            if (state.Length > 0) _trainer.ImportState(state);
        }

        public void Dispose() => _trainer.Dispose();
    }
}
