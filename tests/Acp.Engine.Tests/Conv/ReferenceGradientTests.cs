using Acp.Engine.Kernels;
using static Acp.Engine.Tests.Conv.ConvTestSupport;

namespace Acp.Engine.Tests.Conv;

/// <summary>
/// The double-precision reference backward passes against central finite differences of the reference forward
/// passes, on tiny shapes. With the loss L = Σ r ⊙ f(x) for a random r, ∂L/∂x is exactly what the backward pass
/// computes from dy = r. This is the proof that the gradients are right; the float kernels are then held to the
/// reference.
/// </summary>
public sealed class ReferenceGradientTests
{
    private const double Step = 1e-5;

    public static TheoryData<string> TinyConvs => new(TinyConvCases.Keys);

    private static readonly Dictionary<string, ConvGeometry> TinyConvCases = new()
    {
        ["dense pad1"] = MakeConv(2, 2, 4, 5, 3, 3, 3, pt: 1, pl: 1, pb: 1, pr: 1),
        ["stride2 asym pads"] = MakeConv(2, 2, 5, 6, 2, 3, 2, 2, 2, 0, 1, 2, 0),
        ["dilation2"] = MakeConv(1, 2, 6, 5, 2, 2, 3, pt: 1, pl: 2, pb: 0, pr: 1, dh: 2, dw: 2),
        ["groups2"] = MakeConv(2, 4, 4, 4, 2, 3, 3, 1, 2, 1, 1, 1, 1, groups: 2),
        ["depthwise multiplier2"] = MakeConv(2, 2, 5, 4, 4, 3, 3, 2, 1, 1, 1, 1, 1, groups: 2),
        ["1x1"] = MakeConv(2, 3, 3, 3, 2, 1, 1),
    };

    [Theory]
    [MemberData(nameof(TinyConvs))]
    public void Convolution_gradients_match_finite_differences(string name)
    {
        var g = TinyConvCases[name];
        var rng = new Random(name.Length * 31 + 7);
        var x = RandomDoubles(rng, g.InputLength);
        var w = RandomDoubles(rng, g.WeightLength);
        var b = RandomDoubles(rng, g.OutChannels);
        var r = RandomDoubles(rng, g.OutputLength);

        double Loss() => Dot(r, Reference.ConvForward(g, x, w, b));

        var dx = Reference.ConvBackwardData(g, r, w);
        var (dw, db) = Reference.ConvBackwardFilter(g, x, r);
        AssertMatchesFiniteDifferences(x, dx, Loss, $"{name} dx");
        AssertMatchesFiniteDifferences(w, dw, Loss, $"{name} dw");
        AssertMatchesFiniteDifferences(b, db, Loss, $"{name} dbias");
    }

    public static TheoryData<string> TinyPools => new(TinyPoolCases.Keys);

    private static readonly Dictionary<string, PoolGeometry> TinyPoolCases = new()
    {
        ["3x3 s2 p1"] = MakePool(2, 2, 5, 6, 3, 3, 2, 2, 1, 1, 1, 1),
        ["ceil incl pad"] = MakePool(1, 2, 6, 5, 3, 3, 2, 2, 1, 1, 1, 1, ceil: true, includePad: true),
        ["ceil excl pad asym"] = MakePool(1, 2, 6, 7, 3, 2, 2, 2, 0, 1, 1, 0, ceil: true),
        ["dilation2"] = MakePool(1, 2, 7, 7, 2, 3, 1, 2, 1, 1, 1, 1, 2, 2),
        ["overlapping s1"] = MakePool(2, 1, 4, 4, 2, 2, 1, 1),
    };

    [Theory]
    [MemberData(nameof(TinyPools))]
    public void Pooling_gradients_match_finite_differences(string name)
    {
        var g = TinyPoolCases[name];
        var rng = new Random(name.Length * 17 + 3);
        // Distinct values spaced far wider than the step, so no finite difference crosses a change of argmax.
        var x = Enumerable.Range(0, (int)g.InputLength).Select(i => (double)i).OrderBy(_ => rng.Next()).Select(v => v * 0.01).ToArray();
        var r = RandomDoubles(rng, g.OutputLength);

        var (_, argmax) = Reference.MaxPool(g, x);
        AssertMatchesFiniteDifferences(x, Reference.MaxPoolBackward(g, r, argmax), () => Dot(r, Reference.MaxPool(g, x).Y), $"{name} max dx");
        AssertMatchesFiniteDifferences(x, Reference.AveragePoolBackward(g, r), () => Dot(r, Reference.AveragePool(g, x)), $"{name} average dx");
        var flipped = g with { CountIncludePad = !g.CountIncludePad };
        AssertMatchesFiniteDifferences(x, Reference.AveragePoolBackward(flipped, r), () => Dot(r, Reference.AveragePool(flipped, x)), $"{name} average (count_include_pad flipped) dx");
    }

    [Fact]
    public void Global_average_gradient_matches_finite_differences()
    {
        var rng = new Random(5);
        const int planes = 6, hw = 7;
        var x = RandomDoubles(rng, planes * hw);
        var r = RandomDoubles(rng, planes);
        AssertMatchesFiniteDifferences(x, Reference.GlobalAverageBackward(planes, hw, r), () => Dot(r, Reference.GlobalAverage(planes, hw, x)), "global average dx");
    }

    [Fact]
    public void Reference_max_pool_takes_the_first_of_equal_maxima_and_never_padding()
    {
        // All-negative input: a padded zero would win if padding took part.
        var g = MakePool(1, 1, 2, 3, 2, 2, 1, 1, 1, 1, 1, 1);
        var x = new[] { -1.0, -1.0, -2.0, -1.0, -3.0, -1.0 };
        var (y, argmax) = Reference.MaxPool(g, x);
        Assert.All(y, v => Assert.True(v < 0));
        // Output (1,1) covers input (0,0),(0,1),(1,0),(1,1): all −1 but (1,1); the first is index 0.
        Assert.Equal(0, argmax[1 * g.OutWidth + 1]);
    }

    private static void AssertMatchesFiniteDifferences(double[] parameter, double[] analytic, Func<double> loss, string what)
    {
        Assert.Equal(parameter.Length, analytic.Length);
        var scale = Math.Max(1, analytic.Max(Math.Abs));
        for (var i = 0; i < parameter.Length; i++)
        {
            var saved = parameter[i];
            parameter[i] = saved + Step;
            var plus = loss();
            parameter[i] = saved - Step;
            var minus = loss();
            parameter[i] = saved;
            var numeric = (plus - minus) / (2 * Step);
            Assert.True(Math.Abs(numeric - analytic[i]) <= 1e-7 * scale,
                $"{what}[{i}]: analytic {analytic[i]:R}, finite difference {numeric:R}");
        }
    }

    private static double[] RandomDoubles(Random rng, long count) =>
        Enumerable.Range(0, (int)count).Select(_ => rng.NextDouble() * 2 - 1).ToArray();

    private static double Dot(double[] a, double[] b)
    {
        Assert.Equal(a.Length, b.Length);
        var sum = 0.0;
        for (var i = 0; i < a.Length; i++) sum += a[i] * b[i];
        return sum;
    }
}
