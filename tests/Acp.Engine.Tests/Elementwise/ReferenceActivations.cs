namespace Acp.Engine.Tests.Elementwise;

/// <summary>The activations under test, with their parameters (unused ones ignored).</summary>
public enum Act
{
    Relu,
    LeakyRelu,
    Clip,
    Sigmoid,
    HardSigmoid,
    HardSwish,
    Tanh,
}

/// <summary>
/// Naive double-precision activations and their derivatives, from the formulas, with PyTorch's kink conventions:
/// Relu′(0) = 0, LeakyRelu′(0) = α, Clip′ = 1 on [min, max], HardSigmoid′ = 0 at the kinks, HardSwish′(−3) = −0.5,
/// HardSwish′(3) = 1.5.
/// </summary>
internal static class ReferenceActivations
{
    public const double Alpha = 0.1;
    public const double ClipMin = -0.5;
    public const double ClipMax = 1.5;
    public const double HsAlpha = 0.2;
    public const double HsBeta = 0.5;

    public static double Forward(Act act, double x) => act switch
    {
        Act.Relu => Math.Max(0, x),
        Act.LeakyRelu => x >= 0 ? x : Alpha * x,
        Act.Clip => Math.Min(Math.Max(x, ClipMin), ClipMax),
        Act.Sigmoid => 1 / (1 + Math.Exp(-x)),
        Act.HardSigmoid => Math.Max(0, Math.Min(1, HsAlpha * x + HsBeta)),
        Act.HardSwish => x * Math.Max(0, Math.Min(1, x / 6 + 0.5)),
        Act.Tanh => Math.Tanh(x),
        _ => throw new ArgumentOutOfRangeException(nameof(act)),
    };

    public static double Derivative(Act act, double x) => act switch
    {
        Act.Relu => x > 0 ? 1 : 0,
        Act.LeakyRelu => x > 0 ? 1 : Alpha,
        Act.Clip => x >= ClipMin && x <= ClipMax ? 1 : 0,
        Act.Sigmoid => Forward(act, x) * (1 - Forward(act, x)),
        Act.HardSigmoid => HsAlpha * x + HsBeta is > 0 and < 1 ? HsAlpha : 0,
        Act.HardSwish => x < -3 ? 0 : x <= 3 ? x / 3 + 0.5 : 1,
        Act.Tanh => 1 - Math.Tanh(x) * Math.Tanh(x),
        _ => throw new ArgumentOutOfRangeException(nameof(act)),
    };

    /// <summary>The points where the derivative jumps; finite differences are meaningless there.</summary>
    public static double[] Kinks(Act act) => act switch
    {
        Act.Relu or Act.LeakyRelu => [0],
        Act.Clip => [ClipMin, ClipMax],
        Act.HardSigmoid => [-HsBeta / HsAlpha, (1 - HsBeta) / HsAlpha],
        Act.HardSwish => [-3, 3],
        _ => [],
    };

    public static double[] Forward(Act act, double[] x) => [.. x.Select(v => Forward(act, v))];

    public static double[] Backward(Act act, double[] x, double[] dy) => [.. x.Select((v, i) => Derivative(act, v) * dy[i])];
}
