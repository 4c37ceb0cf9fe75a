using System.Runtime.InteropServices;
using Acp.Engine.Training;
using static TorchSharp.torch;

namespace Acp.TorchSharp;

/// <summary>
/// The engine's <see cref="Discriminator"/> on LibTorch tensors: D(x) = w₂·relu(W₁·x + b₁) + b₂ over a network's k
/// logits, trained by momentum SGD on binary cross-entropy (teacher outputs real, student outputs fake), giving the
/// student the non-saturating loss mean softplus(−D(s)). The initial weights are the engine's (its seeded draw, read
/// through its exported state), and the state uses the engine's layout, so both backends start and resume alike.
/// </summary>
internal sealed class TorchDiscriminator : IDisposable
{
    /// <summary>The engine's default momentum, which <see cref="TransferTrainer"/> uses.</summary>
    private const float Momentum = 0.9f;

    private readonly int _inputs;
    private readonly int _hidden;
    private readonly Tensor[] _parameters;
    private readonly Tensor[] _velocity;

    private TorchDiscriminator(int inputs, int hidden, float[][] parameters, float[][] velocity, Device device)
    {
        _inputs = inputs;
        _hidden = hidden;
        var shapes = Shapes(inputs, hidden);
        // Made inside a step's dispose scope, they must outlive it.
        _parameters = parameters.Select((p, i) => TorchTensors.FromFloats(p, shapes[i], device).requires_grad_(true).DetachFromDisposeScope()).ToArray();
        _velocity = velocity.Select((v, i) => TorchTensors.FromFloats(v, shapes[i], device).DetachFromDisposeScope()).ToArray();
    }

    /// <summary>A fresh discriminator with the engine's initial weights for these sizes and seed.</summary>
    public static TorchDiscriminator Create(int inputs, int hidden, int seed, Device device) =>
        FromEngineState(new Discriminator(inputs, hidden, seed, Momentum).ExportState(), device);

    /// <summary>A discriminator from <see cref="ExportState"/>'s (or the engine's <see cref="Discriminator.ExportState"/>'s) bytes.</summary>
    /// <exception cref="ArgumentException">The state is malformed.</exception>
    public static TorchDiscriminator FromEngineState(byte[] state, Device device)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.Length < 2 * sizeof(int)) throw new ArgumentException("The discriminator state is truncated.", nameof(state));
        var inputs = BitConverter.ToInt32(state, 0);
        var hidden = BitConverter.ToInt32(state, sizeof(int));
        if (inputs < 1 || hidden < 1) throw new ArgumentException($"The discriminator state has {inputs} inputs and {hidden} hidden units.", nameof(state));
        // The engine's reader checks the sizes and the length, with its messages.
        new Discriminator(inputs, hidden, 0, Momentum).ImportState(state);
        var floats = MemoryMarshal.Cast<byte, float>(state.AsSpan(2 * sizeof(int)));
        var lengths = Shapes(inputs, hidden).Select(s => (int)s.Aggregate(1L, (a, b) => a * b)).ToArray();
        var buffers = new float[2 * lengths.Length][];
        var offset = 0;
        for (var b = 0; b < buffers.Length; b++)
        {
            buffers[b] = floats.Slice(offset, lengths[b % lengths.Length]).ToArray();
            offset += buffers[b].Length;
        }
        return new TorchDiscriminator(inputs, hidden, buffers[..lengths.Length], buffers[lengths.Length..], device);
    }

    /// <summary>Values per sample (the number of classes).</summary>
    public int Inputs => _inputs;

    /// <summary>
    /// Mean softplus(−D(s)) over the student's logits <paramref name="student"/> (n × inputs): its gradient reaches the
    /// student's logits only, D's weights being constants here.
    /// </summary>
    public Tensor GeneratorLoss(Tensor student) => Softplus(-Score(student, _parameters.Select(p => p.detach()).ToArray())).mean();

    /// <summary>
    /// One SGD step (momentum 0.9, no weight decay, as the engine's) on mean softplus(−D(t)) + mean softplus(D(s)), the
    /// teacher's logits real, the student's fake; neither gets a gradient. Returns that loss before the step.
    /// </summary>
    public double TrainStep(Tensor teacher, Tensor student, float rate)
    {
        using var scope = NewDisposeScope();
        var loss = Softplus(-Score(teacher.detach(), _parameters)).mean() + Softplus(Score(student.detach(), _parameters)).mean();
        var gradients = autograd.grad([loss], _parameters);
        using (no_grad())
        {
            for (var p = 0; p < _parameters.Length; p++)
            {
                // The engine's v ← μ·v + g; w ← w − rate·v (PyTorch's SGD without dampening: the first step's v is g).
                _velocity[p].mul_(Momentum).add_(gradients[p]);
                _parameters[p].sub_(_velocity[p] * rate);
            }
        }
        return loss.item<float>();
    }

    /// <summary>The weights and momentum buffers in the engine's <see cref="Discriminator.ExportState"/> layout.</summary>
    public byte[] ExportState()
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream))
        {
            writer.Write(_inputs);
            writer.Write(_hidden);
            foreach (var buffer in _parameters.Concat(_velocity)) writer.Write(MemoryMarshal.AsBytes(TorchTensors.ToFloats(buffer).AsSpan()));
        }
        return stream.ToArray();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var tensor in _parameters.Concat(_velocity)) tensor.Dispose();
    }

    /// <summary>D's logit per sample of <paramref name="x"/> (n × inputs), as a vector of n.</summary>
    private static Tensor Score(Tensor x, Tensor[] weights)
    {
        var (w1, b1, w2, b2) = (weights[0], weights[1], weights[2], weights[3]);
        return nn.functional.relu(x.matmul(w1.t()) + b1).matmul(w2) + b2;
    }

    /// <summary>softplus written out as the engine computes it (LibTorch's switches to x above a threshold of 20).</summary>
    private static Tensor Softplus(Tensor x) => nn.functional.relu(x) + (-x.abs()).exp().log1p();

    /// <summary>W₁, b₁, w₂, b₂: the engine's order.</summary>
    private static long[][] Shapes(int inputs, int hidden) => [[hidden, inputs], [hidden], [hidden], [1]];
}
