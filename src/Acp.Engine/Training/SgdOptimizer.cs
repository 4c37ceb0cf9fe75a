using System.Numerics.Tensors;
using Acp.Engine.Execution;

namespace Acp.Engine.Training;

/// <summary>Settings of <see cref="SgdOptimizer"/>; defaults are the usual CNN fine-tuning ones.</summary>
public sealed record SgdOptions
{
    /// <summary>Momentum factor μ (0 disables momentum).</summary>
    public float Momentum { get; init; } = 0.9f;

    /// <summary>Use Nesterov momentum.</summary>
    public bool Nesterov { get; init; }

    /// <summary>L2 weight decay λ added to the gradient.</summary>
    public float WeightDecay { get; init; } = 5e-4f;

    /// <summary>Skip weight decay for biases and normalisation parameters (rank ≤ 1), as many recipes do.</summary>
    public bool DecayBiases { get; init; } = true;
}

/// <summary>
/// Stochastic gradient descent with momentum, exactly as PyTorch's <c>torch.optim.SGD</c> (dampening 0):
/// g ← ∇ + λ·w; b ← g on the first step, else b ← μ·b + g; d ← g + μ·b with Nesterov, else b; w ← w − lr·d.
/// </summary>
public sealed class SgdOptimizer
{
    private readonly IReadOnlyList<Parameter> _parameters;
    private readonly SgdOptions _options;
    private readonly float[][] _velocity;
    private readonly float[][] _scratch;
    private bool _started;

    /// <summary>Creates the optimizer over <paramref name="parameters"/>.</summary>
    public SgdOptimizer(IReadOnlyList<Parameter> parameters, SgdOptions? options = null)
    {
        _parameters = parameters;
        _options = options ?? new SgdOptions();
        _velocity = parameters.Select(p => new float[p.Value.Length]).ToArray();
        _scratch = parameters.Select(p => new float[p.Value.Length]).ToArray();
    }

    /// <summary>Applies one update with learning rate <paramref name="learningRate"/>.</summary>
    public void Step(float learningRate)
    {
        var o = _options;
        for (var i = 0; i < _parameters.Count; i++)
        {
            var w = _parameters[i].Value.Data;
            var g = _scratch[i];
            var decay = o.DecayBiases || !_parameters[i].IsBiasLike ? o.WeightDecay : 0f;
            // g = grad + λ·w
            TensorPrimitives.MultiplyAdd(w, decay, _parameters[i].Gradient.Data, g);
            var direction = g;
            if (o.Momentum != 0)
            {
                var b = _velocity[i];
                if (_started) TensorPrimitives.MultiplyAdd(b, o.Momentum, g, b);
                else g.AsSpan().CopyTo(b);
                if (o.Nesterov) TensorPrimitives.MultiplyAdd(b, o.Momentum, g, g);
                else direction = b;
            }
            // w = w − lr·d
            TensorPrimitives.MultiplyAdd(direction, -learningRate, w, w);
        }
        _started = true;
    }

    /// <summary>
    /// The optimizer's state (whether it has stepped, and every momentum buffer) as bytes, so that a checkpointed run
    /// continues exactly as an uninterrupted one would.
    /// </summary>
    public byte[] ExportState()
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream))
        {
            writer.Write(_started);
            writer.Write(_velocity.Length);
            foreach (var buffer in _velocity)
            {
                writer.Write(buffer.Length);
                writer.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(buffer.AsSpan()));
            }
        }
        return stream.ToArray();
    }

    /// <summary>Restores a state from <see cref="ExportState"/> of an optimizer over parameters of the same shapes.</summary>
    /// <exception cref="ArgumentException">The state is malformed or was taken over different parameters.</exception>
    public void ImportState(byte[] state)
    {
        ArgumentNullException.ThrowIfNull(state);
        try
        {
            using var reader = new BinaryReader(new MemoryStream(state));
            var started = reader.ReadBoolean();
            if (reader.ReadInt32() != _velocity.Length) throw new ArgumentException("The state was taken over a different number of parameters.", nameof(state));
            var buffers = new float[_velocity.Length][];
            for (var i = 0; i < buffers.Length; i++)
            {
                var length = reader.ReadInt32();
                if (length != _velocity[i].Length) throw new ArgumentException($"The state of parameter {_parameters[i].Name} has {length} values; it has {_velocity[i].Length}.", nameof(state));
                buffers[i] = new float[length];
                if (reader.Read(System.Runtime.InteropServices.MemoryMarshal.AsBytes(buffers[i].AsSpan())) != length * sizeof(float)) throw new EndOfStreamException();
            }
            if (reader.BaseStream.Position != state.Length) throw new ArgumentException("The state has trailing bytes.", nameof(state));
            for (var i = 0; i < buffers.Length; i++) buffers[i].CopyTo(_velocity[i], 0);
            _started = started;
        }
        catch (EndOfStreamException)
        {
            throw new ArgumentException("The optimizer state is truncated.", nameof(state));
        }
    }
}
