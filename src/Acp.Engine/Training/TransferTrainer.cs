using System.Numerics.Tensors;
using Acp.Data;
using Acp.Engine.Execution;
using Acp.Engine.Kernels;

namespace Acp.Engine.Training;

/// <summary>
/// Attention transfer on named feature maps: the loss Σ_v Weight·AT(student v, teacher v) of
/// <see cref="Losses.AttentionTransfer"/> (per sample ‖q(s) − q(t)‖², q the L2-normalised channel sum of squares, averaged
/// over the batch and summed over the values).
/// </summary>
/// <param name="Values">Values computed by both networks with the same spatial size (e.g. each stage's output).</param>
/// <param name="Weight">Weight of the summed term.</param>
public sealed record AttentionTransferOptions(IReadOnlyList<string> Values, float Weight = 1f);

/// <summary>
/// An adversarial term on the networks' outputs: a <see cref="Discriminator"/> learns to tell the teacher's logits from
/// the student's (one SGD step per training step, after the student's), and the student is trained with
/// Weight·mean softplus(−D(student logits)).
/// </summary>
/// <param name="Weight">Weight of the student's adversarial loss.</param>
/// <param name="HiddenWidth">Hidden units of the discriminator.</param>
/// <param name="LearningRate">The discriminator's SGD learning rate (constant; momentum 0.9).</param>
/// <param name="Seed">Seeds the discriminator's initial weights.</param>
public sealed record AdversarialOptions(float Weight = 0.1f, int HiddenWidth = 64, float LearningRate = 0.01f, int Seed = 0);

/// <summary>
/// Knowledge transfer from a teacher network in one SGD step: (1 − w)·CE + w·KD(T) on the logits, plus attention
/// transfer on named feature maps and an adversarial term from a discriminator trained in alternation
/// (AIP's losses, reconstructed; research notes §11.1). Disposing removes the hooks it put on both networks.
/// </summary>
public sealed class TransferTrainer : IDisposable
{
    private readonly Network _student;
    private readonly Network _teacher;
    private readonly float _labelSmoothing;
    private readonly float _temperature;
    private readonly float _distillationWeight;
    private readonly AttentionTransferOptions? _attention;
    private readonly AdversarialOptions? _adversarial;
    private readonly SgdOptimizer _optimizer;
    private readonly List<IDisposable> _hooks = [];
    private readonly float[][] _studentMaps;
    private readonly float[][] _teacherMaps;
    private readonly int[][] _studentShapes;
    private readonly int[][] _teacherShapes;
    private Discriminator? _discriminator;
    private float[] _gradient = [];
    private float[] _scratch = [];
    private float[] _teacherLogits = [];
    private float[] _studentLogits = [];

    /// <summary>Prepares to train <paramref name="student"/> from <paramref name="teacher"/> (run in inference mode).</summary>
    /// <param name="student">The network trained.</param>
    /// <param name="teacher">The teacher; never changed.</param>
    /// <param name="sgd">The student's optimizer settings.</param>
    /// <param name="labelSmoothing">Label smoothing of the cross-entropy.</param>
    /// <param name="temperature">Distillation temperature T.</param>
    /// <param name="distillationWeight">w: share of the logit distillation term, 0..1.</param>
    /// <param name="attention">Attention transfer, or null.</param>
    /// <param name="adversarial">The adversarial term, or null.</param>
    /// <exception cref="ArgumentException">A value of <paramref name="attention"/> is not computed by both networks.</exception>
    public TransferTrainer(Network student, Network teacher, SgdOptions sgd, float labelSmoothing, float temperature, float distillationWeight,
        AttentionTransferOptions? attention, AdversarialOptions? adversarial)
    {
        _student = student ?? throw new ArgumentNullException(nameof(student));
        _teacher = teacher ?? throw new ArgumentNullException(nameof(teacher));
        ArgumentNullException.ThrowIfNull(sgd);
        if (ReferenceEquals(student, teacher)) throw new ArgumentException("The teacher must be another network than the student.", nameof(teacher));
        _labelSmoothing = labelSmoothing;
        _temperature = temperature;
        _distillationWeight = distillationWeight;
        _attention = attention;
        _adversarial = adversarial;
        _optimizer = new SgdOptimizer(student.Parameters, sgd);
        var values = attention?.Values ?? [];
        _studentMaps = new float[values.Count][];
        _teacherMaps = new float[values.Count][];
        _studentShapes = new int[values.Count][];
        _teacherShapes = new int[values.Count][];
        var studentValues = student.ComputedValues.ToHashSet(StringComparer.Ordinal);
        var teacherValues = teacher.ComputedValues.ToHashSet(StringComparer.Ordinal);
        for (var v = 0; v < values.Count; v++)
        {
            var name = values[v];
            if (!studentValues.Contains(name) || !teacherValues.Contains(name))
            {
                throw new ArgumentException($"Attention transfer needs value '{name}' in both networks.", nameof(attention));
            }
            var index = v;
            // Hooks also keep fusion from hiding the value, so its gradient can be injected in backward.
            _hooks.Add(student.Capture(name, t => Keep(t, ref _studentMaps[index], ref _studentShapes[index])));
            _hooks.Add(teacher.Capture(name, t => Keep(t, ref _teacherMaps[index], ref _teacherShapes[index])));
        }
    }

    /// <summary>The student's optimizer.</summary>
    public SgdOptimizer Optimizer => _optimizer;

    /// <summary>The discriminator (created at the first step with an adversarial term), or null.</summary>
    public Discriminator? Discriminator => _discriminator;

    /// <summary>One step on <paramref name="batch"/> at learning rate <paramref name="rate"/>; returns the total loss and the student's correct count before the step.</summary>
    /// <exception cref="EngineException">The loss is not finite.</exception>
    public StepResult Step(Batch batch, float rate)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var n = batch.Count;
        _teacher.Training = false;
        var teacherOutput = _teacher.Forward(batch.Shape, batch.ImageSpan);
        Copy(teacherOutput.Data, ref _teacherLogits);
        _student.Training = true;
        var logits = _student.Forward(batch.Shape, batch.ImageSpan);
        if (logits.Length != _teacherLogits.Length) throw new ArgumentException($"The student gives {logits.Length} outputs, the teacher {_teacherLogits.Length}.", nameof(batch));
        var classes = logits.Length / n;
        var correct = 0;
        for (var i = 0; i < n; i++)
        {
            if (TensorPrimitives.IndexOfMax(logits.Data.AsSpan(i * classes, classes)) == batch.Labels[i]) correct++;
        }
        Resize(ref _gradient, logits.Length);
        Resize(ref _scratch, logits.Length);
        var loss = (double)Losses.SoftmaxCrossEntropy(n, classes, logits.Data, batch.Labels, _labelSmoothing, _gradient);
        if (_distillationWeight > 0)
        {
            var kl = Losses.Distillation(n, classes, logits.Data, _teacherLogits, _temperature, _scratch);
            loss = (1 - _distillationWeight) * loss + _distillationWeight * kl;
            TensorPrimitives.Multiply(_gradient, 1 - _distillationWeight, _gradient);
            TensorPrimitives.MultiplyAdd(_scratch, _distillationWeight, _gradient, _gradient);
        }
        if (_adversarial is { Weight: > 0 } adversarial)
        {
            _discriminator ??= new Discriminator(classes, adversarial.HiddenWidth, adversarial.Seed);
            var generator = _discriminator.GeneratorLoss(n, logits.Data, _scratch);
            loss += adversarial.Weight * generator;
            TensorPrimitives.MultiplyAdd(_scratch, adversarial.Weight, _gradient, _gradient);
            Copy(logits.Data, ref _studentLogits);
        }
        var valueGradients = new List<(string, float[])>();
        if (_attention is { } attention)
        {
            for (var v = 0; v < attention.Values.Count; v++)
            {
                var (s, t) = (_studentShapes[v], _teacherShapes[v]);
                if (s.Length != 4 || t.Length != 4 || s[2] != t[2] || s[3] != t[3])
                {
                    throw new EngineException($"Attention transfer on '{attention.Values[v]}' needs NCHW maps of the same size in both networks; got [{string.Join(",", s)}] and [{string.Join(",", t)}].");
                }
                var gradient = new float[_studentMaps[v].Length];
                var at = Losses.AttentionTransfer(n, s[1], t[1], s[2] * s[3], _studentMaps[v], _teacherMaps[v], gradient);
                loss += attention.Weight * at;
                TensorPrimitives.Multiply(gradient, attention.Weight, gradient);
                valueGradients.Add((attention.Values[v], gradient));
            }
        }
        if (!double.IsFinite(loss)) throw new EngineException($"Training diverged: the loss became {loss}; lower the learning rate.");
        _student.Backward(_gradient, valueGradients);
        _optimizer.Step(rate);
        // The discriminator plays second, on the same outputs (teacher real, student fake).
        if (_adversarial is { Weight: > 0 } played) _discriminator!.TrainStep(n, _teacherLogits, _studentLogits, played.LearningRate);
        return new StepResult(loss, correct);
    }

    /// <summary>The student optimizer's state, followed by the discriminator's when there is one (<see cref="TransferState"/>).</summary>
    public byte[] ExportState() => TransferState.Write(_optimizer.ExportState(), _discriminator?.ExportState() ?? []);

    /// <summary>Restores what <see cref="ExportState"/> gave.</summary>
    /// <exception cref="ArgumentException">The state is malformed or belongs to other networks.</exception>
    public void ImportState(byte[] state)
    {
        var (optimizer, discriminator) = TransferState.Read(state);
        if (discriminator.Length > 0 && _adversarial is null) throw new ArgumentException("The state holds a discriminator; these options have no adversarial term.", nameof(state));
        if (discriminator.Length is > 0 and < 4) throw new ArgumentException("The discriminator state is truncated.", nameof(state));
        _optimizer.ImportState(optimizer);
        if (discriminator.Length > 0)
        {
            _discriminator = new Discriminator(BitConverter.ToInt32(discriminator, 0), _adversarial!.HiddenWidth, _adversarial.Seed);
            _discriminator.ImportState(discriminator);
        }
    }

    /// <summary>Removes the hooks from both networks.</summary>
    public void Dispose()
    {
        foreach (var hook in _hooks) hook.Dispose();
        _hooks.Clear();
    }

    private static void Keep(Tensors.Tensor value, ref float[] buffer, ref int[] shape)
    {
        Copy(value.Data, ref buffer);
        shape = value.Shape.ToArray();
    }

    private static void Copy(ReadOnlySpan<float> source, ref float[] destination)
    {
        if (destination is null || destination.Length != source.Length) destination = new float[source.Length];
        source.CopyTo(destination);
    }

    private static void Resize(ref float[] buffer, int length)
    {
        if (buffer.Length != length) buffer = new float[length];
    }
}
