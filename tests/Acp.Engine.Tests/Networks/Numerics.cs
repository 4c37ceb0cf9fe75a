namespace Acp.Engine.Tests.Networks;

internal static class Numerics
{
    /// <summary>
    /// |actual − expected| ≤ tolerance · max(1, max|expected|) element-wise: relative to the tensor's scale, so that
    /// values near zero in a large-magnitude output are not held to an impossible relative bound.
    /// </summary>
    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = 1;
        foreach (var v in expected) scale = Math.Max(scale, Math.Abs(v));
        var worst = 0.0;
        var at = -1;
        for (var i = 0; i < expected.Length; i++)
        {
            var error = Math.Abs(actual[i] - expected[i]);
            if (!(error <= worst)) { worst = error; at = i; }
        }
        Assert.True(worst <= tolerance * scale, $"{what}: element {at} is {(at >= 0 ? actual[at] : 0)}, expected {(at >= 0 ? expected[at] : 0)} (error {worst:g3}, allowed {tolerance * scale:g3})");
    }

    /// <summary>‖actual − expected‖₂ ≤ tolerance · ‖expected‖₂: for gradients, where a whole tensor's direction matters.</summary>
    public static void AssertCloseL2(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double difference = 0, norm = 0;
        for (var i = 0; i < expected.Length; i++)
        {
            difference += (double)(actual[i] - expected[i]) * (actual[i] - expected[i]);
            norm += (double)expected[i] * expected[i];
        }
        var relative = Math.Sqrt(difference) / Math.Max(Math.Sqrt(norm), 1e-12);
        Assert.True(relative <= tolerance, $"{what}: relative L2 error {relative:g3} > {tolerance:g3}");
    }
}
