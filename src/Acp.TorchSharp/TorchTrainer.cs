using System.Runtime.InteropServices;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Acp.TorchSharp;

/// <summary>Settings of <see cref="TorchTrainer"/>: the engine's defaults (SGD as PyTorch defines it).</summary>
public sealed record TorchTrainingOptions
{
    /// <summary>Momentum factor (0 disables momentum).</summary>
    public float Momentum { get; init; } = 0.9f;

    /// <summary>Use Nesterov momentum.</summary>
    public bool Nesterov { get; init; }

    /// <summary>L2 weight decay added to every parameter's gradient (biases and normalisation parameters included, as the engine's default).</summary>
    public float WeightDecay { get; init; } = 5e-4f;

    /// <summary>Label smoothing of the cross-entropy, in [0, 1].</summary>
    public float LabelSmoothing { get; init; }

    /// <summary>Distillation temperature T (used when teacher logits are given).</summary>
    public float Temperature { get; init; } = 4f;

    /// <summary>Weight w of the distillation term: loss = (1 − w) · cross-entropy + w · T² · KL(teacher ‖ student).</summary>
    public float DistillationWeight { get; init; } = 0.7f;
}

/// <summary>The loss and the number of correctly classified images of one step.</summary>
public readonly record struct TorchStepResult(double Loss, int Correct);

/// <summary>
/// One SGD step at a time on an <see cref="OnnxModule"/>, with the engine's loss: cross-entropy (optionally label
/// smoothed), mixed with Hinton distillation when the caller passes teacher logits for the batch.
/// </summary>
public sealed class TorchTrainer : IDisposable
{
    private readonly OnnxModule _module;
    private readonly TorchTrainingOptions _options;
    private readonly SGD _optimizer;
    private readonly IReadOnlyList<Parameter> _parameters;

    /// <summary>Trains every parameter of <paramref name="module"/>.</summary>
    public TorchTrainer(OnnxModule module, TorchTrainingOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        _module = module;
        _options = options ?? new TorchTrainingOptions();
        if (!(_options.LabelSmoothing is >= 0f and <= 1f)) throw new ArgumentException($"LabelSmoothing must be in [0, 1]; it is {_options.LabelSmoothing}.", nameof(options));
        _parameters = module.ParameterNames.Select(module.Parameter).ToList();
        _optimizer = optim.SGD(_parameters, 0.01, _options.Momentum, 0, _options.WeightDecay, _options.Nesterov);
    }

    /// <summary>
    /// Trains on one batch (<paramref name="images"/> laid out as <paramref name="shape"/>, NCHW) at learning rate
    /// <paramref name="rate"/>; <paramref name="teacherLogits"/> (batch × classes) switch distillation on.
    /// </summary>
    /// <exception cref="ArgumentException">Labels or teacher logits do not fit the batch.</exception>
    /// <exception cref="TorchBackendException">The loss is not finite.</exception>
    public TorchStepResult Step(ReadOnlySpan<float> images, long[] shape, ReadOnlySpan<int> labels, float rate, ReadOnlySpan<float> teacherLogits = default)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (labels.Length != shape[0]) throw new ArgumentException($"{labels.Length} labels for a batch of {shape[0]}.", nameof(labels));
        using var scope = NewDisposeScope();
        var device = _module.Placement;
        var input = TorchTensors.FromFloats(images, shape, device);
        Tensor? teacher = null;
        // Flat: the step checks the count against the logits and shapes it like them.
        if (!teacherLogits.IsEmpty) teacher = TorchTensors.FromFloats(teacherLogits, [teacherLogits.Length], device);
        return Step(input, labels, rate, teacher, [], null);
    }

    /// <summary>
    /// The step itself, inside the caller's dispose scope: the module runs in training mode on <paramref name="input"/>
    /// (capturing <paramref name="captures"/> with their autograd history), <paramref name="extraLoss"/> adds its terms
    /// from the logits and the captured values (null = none), and the sum is backpropagated and stepped on.
    /// </summary>
    internal TorchStepResult Step(Tensor input, ReadOnlySpan<int> labels, float rate, Tensor? teacherLogits, IReadOnlyCollection<string> captures,
        Func<Tensor, IReadOnlyDictionary<string, Tensor>, Tensor>? extraLoss)
    {
        var device = _module.Placement;
        _module.train();
        var values = _module.Run(input, captures);
        var logits = values[_module.OutputName];
        var target = tensor(labels.ToArray().Select(l => (long)l).ToArray(), device: device);
        var loss = F.cross_entropy(logits, target, label_smoothing: _options.LabelSmoothing);
        if (teacherLogits is not null)
        {
            if (teacherLogits.numel() != logits.numel()) throw new ArgumentException($"{teacherLogits.numel()} teacher logits for {logits.numel()} outputs.", nameof(teacherLogits));
            var t = _options.Temperature;
            var teacher = teacherLogits.reshape(logits.shape);
            // PyTorch's kl_div(log_softmax(s/T), softmax(t/T), 'batchmean')·T², written out (the teacher gets no gradient).
            var logP = F.log_softmax(teacher / t, 1);
            var kl = (logP.exp() * (logP - F.log_softmax(logits / t, 1))).sum() / logits.shape[0] * (t * t);
            loss = loss * (1 - _options.DistillationWeight) + kl * _options.DistillationWeight;
        }
        if (extraLoss is not null) loss = loss + extraLoss(logits, values);
        var value = loss.item<float>();
        if (!float.IsFinite(value)) throw new TorchBackendException($"Training diverged: the loss became {value}; lower the learning rate.");
        foreach (var group in _optimizer.ParamGroups) group.LearningRate = rate;
        _optimizer.zero_grad();
        loss.backward();
        _optimizer.step();
        var correct = (int)logits.argmax(1).eq(target).sum().item<long>();
        return new TorchStepResult(value, correct);
    }

    /// <summary>
    /// The optimizer's momentum buffers as bytes, in the engine's <c>SgdOptimizer.ExportState</c> layout (whether a step
    /// was taken, then every parameter's buffer in <see cref="OnnxModule.ParameterNames"/> order), so that a checkpointed
    /// fine-tune continues exactly as an uninterrupted one would.
    /// </summary>
    public byte[] ExportState()
    {
        var states = MomentumStates();
        var started = states.Any(s => s.Buffer.momentum_buffer is not null);
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream))
        {
            writer.Write(started);
            writer.Write(states.Count);
            foreach (var (parameter, state) in states)
            {
                // A parameter that never had a gradient has no buffer yet: PyTorch's first step copies the gradient,
                // which is what a zero buffer gives too (0·μ + g).
                var values = state.momentum_buffer is { } buffer ? TorchTensors.ToFloats(buffer) : new float[parameter.numel()];
                writer.Write(values.Length);
                writer.Write(MemoryMarshal.AsBytes(values.AsSpan()));
            }
        }
        return stream.ToArray();
    }

    /// <summary>Restores a state <see cref="ExportState"/> returned for a module with parameters of the same sizes.</summary>
    /// <exception cref="ArgumentException">The state is malformed or was taken over different parameters.</exception>
    public void ImportState(byte[] state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var states = MomentumStates();
        var buffers = new float[states.Count][];
        bool started;
        try
        {
            using var reader = new BinaryReader(new MemoryStream(state));
            started = reader.ReadBoolean();
            if (reader.ReadInt32() != states.Count) throw new ArgumentException("The optimizer state was taken over a different number of parameters.", nameof(state));
            for (var i = 0; i < buffers.Length; i++)
            {
                var length = reader.ReadInt32();
                var expected = states[i].Parameter.numel();
                if (length != expected) throw new ArgumentException($"The optimizer state of parameter {_module.ParameterNames[i]} has {length} values; it has {expected}.", nameof(state));
                buffers[i] = new float[length];
                if (reader.Read(MemoryMarshal.AsBytes(buffers[i].AsSpan())) != length * sizeof(float)) throw new EndOfStreamException();
            }
            if (reader.BaseStream.Position != state.Length) throw new ArgumentException("The optimizer state has trailing bytes.", nameof(state));
        }
        catch (EndOfStreamException)
        {
            throw new ArgumentException("The optimizer state is truncated.", nameof(state));
        }
        for (var i = 0; i < buffers.Length; i++)
        {
            var (parameter, slot) = states[i];
            slot.momentum_buffer?.Dispose();
            // Not started: no buffers, so the next step starts them from its gradient, as a fresh optimizer does.
            slot.momentum_buffer = started ? TorchTensors.FromFloats(buffers[i], parameter.shape, parameter.device) : null;
        }
    }

    /// <summary>Each parameter with its SGD state (TorchSharp's <c>state_dict</c> lists them in the order they were given).</summary>
    private List<(Tensor Parameter, SGD.State Buffer)> MomentumStates()
    {
        var states = _optimizer.state_dict().State;
        if (states.Count != _parameters.Count) throw new InvalidOperationException($"The optimizer holds {states.Count} states for {_parameters.Count} parameters.");
        return _parameters.Select((p, i) => ((Tensor)p, (SGD.State)states[i])).ToList();
    }

    /// <inheritdoc />
    public void Dispose() => _optimizer.Dispose();
}
