using Acp.Data;
using Acp.Engine.Backends;
using Acp.Engine.Training;
using static TorchSharp.torch;
using EngineTensor = Acp.Engine.Tensors.Tensor;

namespace Acp.TorchSharp;

/// <summary>
/// The engine's <see cref="TransferTrainer"/> on TorchSharp (the aip strategy's losses): (1 − w)·CE + w·KD(T) on the
/// logits, plus Weight·Σ_v AT(student v, teacher v) on named feature maps (q = the L2-normalised channel sum of squares,
/// per sample ‖q(s) − q(t)‖², averaged over the batch), plus Weight·mean softplus(−D(student logits)) from a
/// <see cref="TorchDiscriminator"/> that takes one SGD step after the student's, on the teacher's logits (real) and the
/// student's (fake). The teacher runs in inference mode and gets no gradient; the student's maps keep their autograd
/// history, so LibTorch backpropagates the attention terms through the student.
/// </summary>
/// <remarks>
/// A TorchSharp teacher is run on the student's device with the maps captured in place; a teacher of another backend
/// through the seam (<see cref="ITrainableNetwork.Capture"/>), its maps copied over.
/// </remarks>
internal sealed class TorchTransferTrainer : INetworkTrainer
{
    private readonly TorchSharpNetwork _student;
    private readonly ITrainableNetwork _teacher;
    private readonly TorchTrainer _trainer;
    private readonly IReadOnlyList<string> _values;
    private readonly AttentionTransferOptions? _attention;
    private readonly AdversarialOptions? _adversarial;
    private TorchDiscriminator? _discriminator;

    /// <exception cref="ArgumentException">No teacher network, the teacher is the student, or a value of the attention transfer is not computed by both.</exception>
    public TorchTransferTrainer(TorchSharpNetwork student, NetworkTrainingOptions options)
    {
        _student = student;
        var kd = options.Distillation ?? throw new ArgumentException("Attention transfer and the adversarial term need a distillation teacher.", nameof(options));
        _teacher = kd.Teacher ?? throw new ArgumentException("Attention transfer and the adversarial term need a teacher network (they read more than its logits).", nameof(options));
        if (ReferenceEquals(_teacher, student) || (_teacher is TorchSharpNetwork t && ReferenceEquals(t.Module, student.Module)))
        {
            throw new ArgumentException("The teacher must be another network than the student.", nameof(options));
        }
        _attention = options.AttentionTransfer;
        _adversarial = options.Adversarial is { Weight: > 0 } adversarial ? adversarial : null;
        _values = _attention?.Values ?? [];
        var studentValues = student.ComputedValues.ToHashSet(StringComparer.Ordinal);
        var teacherValues = _teacher.ComputedValues.ToHashSet(StringComparer.Ordinal);
        foreach (var name in _values)
        {
            if (!studentValues.Contains(name) || !teacherValues.Contains(name)) throw new ArgumentException($"Attention transfer needs value '{name}' in both networks.", nameof(options));
        }
        _trainer = new TorchTrainer(student.Module, TorchSharpNetwork.TrainingOptions(options));
    }

    /// <summary>One step, as <see cref="TransferTrainer.Step"/>.</summary>
    /// <exception cref="ArgumentException">Teacher logits were passed (the teacher is run here, for its maps too).</exception>
    /// <exception cref="TorchBackendException">A map's sizes differ between the networks, or the loss is not finite.</exception>
    public StepResult Step(Batch batch, float rate, ReadOnlySpan<float> teacherLogits = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (!teacherLogits.IsEmpty) throw new ArgumentException("Knowledge transfer runs the teacher itself (it needs its feature maps); pass no logits.", nameof(teacherLogits));
        using var scope = NewDisposeScope();
        var device = _student.Module.Placement;
        var input = TorchTensors.FromFloats(batch.ImageSpan, batch.Shape.Select(d => (long)d).ToArray(), device);
        var (teacher, teacherMaps) = RunTeacher(batch, input);
        Tensor? studentLogits = null;
        var result = _trainer.Step(input, batch.LabelSpan, rate, teacher, _values, (logits, maps) =>
        {
            var extra = zeros([], device: device);
            if (_adversarial is { } adversarial)
            {
                _discriminator ??= TorchDiscriminator.Create((int)logits.shape[1], adversarial.HiddenWidth, adversarial.Seed, device);
                extra = extra + _discriminator.GeneratorLoss(logits) * adversarial.Weight;
                studentLogits = logits.detach();
            }
            if (_attention is { } attention)
            {
                foreach (var name in _values) extra = extra + AttentionTransfer(name, maps[name], teacherMaps[name]) * attention.Weight;
            }
            return extra;
        });
        // The discriminator plays second, on the same outputs (the student's from before its step).
        if (_adversarial is { } played) _discriminator!.TrainStep(teacher, studentLogits!, played.LearningRate);
        return new StepResult(result.Loss, result.Correct);
    }

    /// <summary>The student optimizer's state, then the discriminator's (empty when none): the layout of <see cref="TransferState"/>, shared with the engine.</summary>
    public byte[] ExportState() => TransferState.Write(_trainer.ExportState(), _discriminator?.ExportState() ?? []);

    /// <summary>Restores what <see cref="ExportState"/> (or the engine's transfer trainer) gave; an empty state leaves the trainer fresh.</summary>
    /// <exception cref="ArgumentException">The state is malformed or belongs to other networks or options.</exception>
    public void ImportState(byte[] state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.Length == 0) return;
        var (optimizer, discriminator) = TransferState.Read(state);
        if (discriminator.Length > 0 && _adversarial is null) throw new ArgumentException("The state holds a discriminator; these options have no adversarial term.", nameof(state));
        _trainer.ImportState(optimizer);
        _discriminator?.Dispose();
        _discriminator = discriminator.Length > 0 ? TorchDiscriminator.FromEngineState(discriminator, _student.Module.Placement) : null;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _trainer.Dispose();
        _discriminator?.Dispose();
    }

    /// <summary>The teacher's logits and maps on the student's device, in inference mode and without gradient.</summary>
    private (Tensor Logits, Dictionary<string, Tensor> Maps) RunTeacher(Batch batch, Tensor input)
    {
        var device = _student.Module.Placement;
        using var noGrad = no_grad();
        if (_teacher is TorchSharpNetwork torch)
        {
            var module = torch.Module;
            var wasTraining = module.training;
            module.eval();
            try
            {
                var values = module.Run(input.to(module.Placement), _values);
                return (values[module.OutputName].to(device), _values.ToDictionary(v => v, v => values[v].to(device), StringComparer.Ordinal));
            }
            finally
            {
                module.train(wasTraining);
            }
        }
        var captured = new Dictionary<string, EngineTensor>(StringComparer.Ordinal);
        var hooks = _values.Select(v => _teacher.Capture(v, t => captured[v] = new EngineTensor(t.Shape.ToArray(), t.Data.ToArray()))).ToList();
        try
        {
            var logits = _teacher.Forward(batch.Shape, batch.ImageSpan);
            return (ToDevice(logits, device), captured.ToDictionary(c => c.Key, c => ToDevice(c.Value, device), StringComparer.Ordinal));
        }
        finally
        {
            foreach (var hook in hooks) hook.Dispose();
        }
    }

    private static Tensor ToDevice(EngineTensor tensor, Device device) =>
        TorchTensors.FromFloats(tensor.Data, tensor.Shape.Select(d => (long)d).ToArray(), device);

    /// <summary>
    /// The engine's <c>Losses.AttentionTransfer</c>: per sample ‖q(s) − q(t)‖², q = a / max(‖a‖₂, 1e-12) with a the
    /// channel sum of squares (so the channel counts may differ), averaged over the batch.
    /// </summary>
    private Tensor AttentionTransfer(string name, Tensor student, Tensor teacher)
    {
        if (student.dim() != 4 || teacher.dim() != 4 || student.shape[2] != teacher.shape[2] || student.shape[3] != teacher.shape[3])
        {
            throw new TorchBackendException($"Attention transfer on '{name}' needs NCHW maps of the same size in both networks; got [{string.Join(",", student.shape)}] and [{string.Join(",", teacher.shape)}].");
        }
        var difference = AttentionMap(student) - AttentionMap(teacher);
        return difference.pow(2).sum(1).mean();
    }

    private static Tensor AttentionMap(Tensor x) =>
        nn.functional.normalize(x.pow(2).sum(1).flatten(1), p: 2, dim: 1, eps: Acp.Engine.Kernels.Losses.AttentionNormEpsilon);
}
