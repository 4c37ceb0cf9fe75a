namespace Acp.Engine.Tests.Elementwise;

/// <summary>Random data, precision conversions, tolerance checks and finite differences for the elementwise tests.</summary>
internal static class ElementwiseTestSupport
{
    /// <summary>Uniform floats in [lo, hi), deterministic for a seed, with <paramref name="slack"/> extra trailing
    /// elements set to NaN so that a kernel reading or writing past its prefix is noticed.</summary>
    public static float[] RandomFloats(Random rng, int count, double lo = -2, double hi = 2, int slack = 0)
    {
        var result = new float[count + slack];
        for (var i = 0; i < count; i++)
        {
            result[i] = (float)(lo + (hi - lo) * rng.NextDouble());
        }

        for (var i = count; i < result.Length; i++)
        {
            result[i] = float.NaN;
        }

        return result;
    }

    /// <summary>An output buffer of count + slack elements pre-filled with NaN, so that unwritten elements show.</summary>
    public static float[] Poisoned(int count, int slack = 3)
    {
        var result = new float[count + slack];
        Array.Fill(result, float.NaN);
        return result;
    }

    public static double[] ToDouble(float[] x, int count) => [.. x.Take(count).Select(v => (double)v)];

    public static float[] ToFloat(double[] x) => [.. x.Select(v => (float)v)];

    /// <summary>Asserts |actual − expected| ≤ atol + rtol·|expected| elementwise, naming the first bad index.</summary>
    public static void AssertClose(double[] expected, float[] actual, double rtol = 1e-4, double atol = 1e-5, string what = "")
    {
        Assert.True(actual.Length >= expected.Length, $"{what}: {actual.Length} elements, expected at least {expected.Length}");
        for (var i = 0; i < expected.Length; i++)
        {
            var e = expected[i];
            var a = actual[i];
            if (!(Math.Abs(a - e) <= atol + rtol * Math.Abs(e)))
            {
                Assert.Fail($"{what}[{i}]: expected {e:R}, got {a:R} (|diff| = {Math.Abs(a - e):E3}, tolerance {atol + rtol * Math.Abs(e):E3}).");
            }
        }
    }

    /// <summary>Asserts the trailing slack of a buffer was left untouched (still NaN).</summary>
    public static void AssertSlackUntouched(float[] buffer, int count)
    {
        for (var i = count; i < buffer.Length; i++)
        {
            Assert.True(float.IsNaN(buffer[i]), $"Element {i} past the {count} needed was written ({buffer[i]}).");
        }
    }

    /// <summary>Asserts two doubles agree to atol + rtol·max(|a|, |b|).</summary>
    public static void AssertNear(double expected, double actual, double rtol, double atol, string what = "")
    {
        Assert.True(Math.Abs(expected - actual) <= atol + rtol * Math.Max(Math.Abs(expected), Math.Abs(actual)),
            $"{what}: expected {expected:R}, got {actual:R} (|diff| = {Math.Abs(expected - actual):E3}).");
    }

    /// <summary>
    /// Central finite differences of a scalar function f at x, in double: (f(x + h·e_i) − f(x − h·e_i)) / 2h for each i.
    /// </summary>
    public static double[] NumericGradient(Func<double[], double> f, double[] x, double h = 1e-6)
    {
        var g = new double[x.Length];
        var probe = (double[])x.Clone();
        for (var i = 0; i < x.Length; i++)
        {
            probe[i] = x[i] + h;
            var plus = f(probe);
            probe[i] = x[i] - h;
            var minus = f(probe);
            probe[i] = x[i];
            g[i] = (plus - minus) / (2 * h);
        }

        return g;
    }

    /// <summary>Asserts an analytic gradient matches central differences to 1e-6 (relative to max(1, |g|)).</summary>
    public static void AssertGradient(Func<double[], double> f, double[] x, double[] analytic, string what, double tolerance = 1e-6)
    {
        var numeric = NumericGradient(f, x);
        Assert.Equal(x.Length, analytic.Length);
        for (var i = 0; i < x.Length; i++)
        {
            var scale = Math.Max(1, Math.Abs(numeric[i]));
            Assert.True(Math.Abs(numeric[i] - analytic[i]) <= tolerance * scale,
                $"{what}[{i}]: finite differences {numeric[i]:R}, analytic {analytic[i]:R}.");
        }
    }

    /// <summary>Σ w_i·y_i, the scalar whose gradient with respect to y is w: turns a vector op into a loss.</summary>
    public static double Weighted(double[] w, double[] y)
    {
        var sum = 0.0;
        for (var i = 0; i < y.Length; i++)
        {
            sum += w[i] * y[i];
        }

        return sum;
    }

    public static double[] RandomDoubles(Random rng, int count, double lo = -2, double hi = 2) =>
        [.. Enumerable.Range(0, count).Select(_ => lo + (hi - lo) * rng.NextDouble())];

    public static int Count(int[] shape) => shape.Aggregate(1, (a, b) => a * b);
}
