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
}
