using Acp.Engine.Kernels;

namespace Acp.Engine.Tests.Conv;

/// <summary>Buffers with guard elements, conversions and tolerance checks shared by the convolution and pooling tests.</summary>
internal static class ConvTestSupport
{
    /// <summary>Extra elements after every prefix, to prove kernels neither read nor write past what the geometry needs.</summary>
    public const int Slack = 7;

    /// <summary>Marks output elements past the prefix; any change means a kernel wrote out of bounds.</summary>
    public const float Sentinel = -7777.25f;

    public static float[] RandomFloats(Random rng, long count, float scale = 1f)
    {
        var a = new float[count];
        for (var i = 0; i < a.Length; i++) a[i] = (float)(rng.NextDouble() * 2 - 1) * scale;
        return a;
    }

    /// <summary>An input buffer: the data followed by NaNs, which would poison any result that read them.</summary>
    public static float[] Input(float[] data)
    {
        var buffer = new float[data.Length + Slack];
        data.CopyTo(buffer, 0);
        buffer.AsSpan(data.Length).Fill(float.NaN);
        return buffer;
    }

    /// <summary>An output buffer: NaN in the prefix (kernels must overwrite, not accumulate), sentinels after it.</summary>
    public static float[] Output(long count)
    {
        var buffer = new float[count + Slack];
        buffer.AsSpan(0, (int)count).Fill(float.NaN);
        buffer.AsSpan((int)count).Fill(Sentinel);
        return buffer;
    }

    public static int[] IndexOutput(long count)
    {
        var buffer = new int[count + Slack];
        buffer.AsSpan(0, (int)count).Fill(int.MinValue);
        buffer.AsSpan((int)count).Fill(-777);
        return buffer;
    }

    public static double[] ToDouble(float[] a, long count) => a.Take((int)count).Select(v => (double)v).ToArray();

    public static void AssertSentinels(float[] buffer, long count, string what)
    {
        for (var i = (int)count; i < buffer.Length; i++)
        {
            Assert.True(buffer[i] == Sentinel, $"{what}: element {i} past the {count}-element prefix was overwritten with {buffer[i]}");
        }
    }

    public static void AssertSentinels(int[] buffer, long count, string what)
    {
        for (var i = (int)count; i < buffer.Length; i++)
        {
            Assert.True(buffer[i] == -777, $"{what}: index {i} past the {count}-element prefix was overwritten with {buffer[i]}");
        }
    }

    /// <summary>
    /// Normwise relative check: every |actual − expected| ≤ rel · max(|expected|) (plus a tiny absolute floor for
    /// all-zero results). Float kernels sum in a different order from the double reference, so elementwise relative
    /// error is meaningless where the true value is near zero.
    /// </summary>
    public static void AssertClose(double[] expected, float[] actual, double rel, string what)
    {
        Assert.True(actual.Length >= expected.Length, $"{what}: {actual.Length} elements, expected at least {expected.Length}");
        var scale = expected.Where(double.IsFinite).Select(Math.Abs).DefaultIfEmpty(0).Max();
        var tolerance = rel * scale + 1e-6;
        for (var i = 0; i < expected.Length; i++)
        {
            if (double.IsInfinity(expected[i]))
            {
                // Max pooling over a window of padding only.
                Assert.True(actual[i] == expected[i], $"{what}[{i}]: got {actual[i]:R}, expected {expected[i]:R}");
                continue;
            }
            var error = Math.Abs(actual[i] - expected[i]);
            Assert.True(error <= tolerance,
                $"{what}[{i}]: got {actual[i]:R}, expected {expected[i]:R} (error {error:E3} > {tolerance:E3}, scale {scale:E3})");
        }
    }

    public static ConvGeometry MakeConv(int n, int cin, int h, int w, int cout, int kh, int kw, int sh = 1, int sw = 1,
        int pt = 0, int pl = 0, int pb = 0, int pr = 0, int dh = 1, int dw = 1, int groups = 1) =>
        new(n, cin, h, w, cout, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, groups);

    public static PoolGeometry MakePool(int n, int c, int h, int w, int kh, int kw, int sh = 1, int sw = 1,
        int pt = 0, int pl = 0, int pb = 0, int pr = 0, int dh = 1, int dw = 1, bool ceil = false, bool includePad = false) =>
        new(n, c, h, w, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, ceil, includePad);
}
