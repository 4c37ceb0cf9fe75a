using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Acp.Engine.Kernels;

/// <summary>
/// Per-plane loops of <see cref="BatchNorm"/>: one image-channel plane (hw floats) at a time, each read from memory
/// once. Reductions accumulate in double with four independent vector accumulators (a single chain of double adds
/// ran at a quarter of the adder's throughput and made BatchNormalization compute-bound) and fold them in a fixed
/// order, so the bits depend only on the plane's values, its length and the vector width chosen.
/// </summary>
public static partial class BatchNorm
{
    /// <summary>The vector width the plane loops use.</summary>
    internal enum Width
    {
        /// <summary>Plain scalar loops (any CPU).</summary>
        Scalar,

        /// <summary>256-bit vectors.</summary>
        Vector256,

        /// <summary>512-bit vectors.</summary>
        Vector512,
    }

    /// <summary>
    /// Forces a narrower width on the calling thread (read once at each kernel's entry), so tests can run every path
    /// on a machine with wider vectors.
    /// </summary>
    [ThreadStatic]
    internal static Width? ForcedWidth;

    /// <summary>The width a kernel called now on this thread uses.</summary>
    internal static Width ChooseWidth()
    {
        var best = Vector512.IsHardwareAccelerated ? Width.Vector512 : Vector256.IsHardwareAccelerated ? Width.Vector256 : Width.Scalar;
        return ForcedWidth is { } forced && forced < best ? forced : best;
    }

    /// <summary>
    /// Sum and M2 = Σ (x − mean)² of one plane, mean = sum / count: two sweeps, the second over values the first
    /// left in L1, so x comes from memory once and the variance keeps the accuracy of the two-pass formula.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static unsafe void PlaneMoments(float* x, int count, Width width, out double sum, out double m2)
    {
        sum = PlaneSum(x, count, width);
        m2 = PlaneSquaredDeviations(x, count, sum / count, width);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe double PlaneSum(float* x, int count, Width width)
    {
        var i = 0;
        var total = 0.0;
        if (width == Width.Vector512)
        {
            Vector512<double> a0 = default, a1 = default, a2 = default, a3 = default;
            for (; i <= count - 32; i += 32)
            {
                var (l0, h0) = Vector512.Widen(Vector512.Load(x + i));
                var (l1, h1) = Vector512.Widen(Vector512.Load(x + i + 16));
                a0 += l0; a1 += h0; a2 += l1; a3 += h1;
            }
            for (; i <= count - 16; i += 16)
            {
                var (l0, h0) = Vector512.Widen(Vector512.Load(x + i));
                a0 += l0; a1 += h0;
            }
            total = Vector512.Sum((a0 + a1) + (a2 + a3));
        }
        else if (width == Width.Vector256)
        {
            Vector256<double> a0 = default, a1 = default, a2 = default, a3 = default;
            for (; i <= count - 16; i += 16)
            {
                var (l0, h0) = Vector256.Widen(Vector256.Load(x + i));
                var (l1, h1) = Vector256.Widen(Vector256.Load(x + i + 8));
                a0 += l0; a1 += h0; a2 += l1; a3 += h1;
            }
            for (; i <= count - 8; i += 8)
            {
                var (l0, h0) = Vector256.Widen(Vector256.Load(x + i));
                a0 += l0; a1 += h0;
            }
            total = Vector256.Sum((a0 + a1) + (a2 + a3));
        }
        for (; i < count; i++) total += x[i];
        return total;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe double PlaneSquaredDeviations(float* x, int count, double mean, Width width)
    {
        var i = 0;
        var total = 0.0;
        if (width == Width.Vector512)
        {
            var m = Vector512.Create(mean);
            Vector512<double> a0 = default, a1 = default, a2 = default, a3 = default;
            for (; i <= count - 32; i += 32)
            {
                var (l0, h0) = Vector512.Widen(Vector512.Load(x + i));
                var (l1, h1) = Vector512.Widen(Vector512.Load(x + i + 16));
                l0 -= m; h0 -= m; l1 -= m; h1 -= m;
                a0 = Vector512.FusedMultiplyAdd(l0, l0, a0); a1 = Vector512.FusedMultiplyAdd(h0, h0, a1);
                a2 = Vector512.FusedMultiplyAdd(l1, l1, a2); a3 = Vector512.FusedMultiplyAdd(h1, h1, a3);
            }
            for (; i <= count - 16; i += 16)
            {
                var (l0, h0) = Vector512.Widen(Vector512.Load(x + i));
                l0 -= m; h0 -= m;
                a0 = Vector512.FusedMultiplyAdd(l0, l0, a0); a1 = Vector512.FusedMultiplyAdd(h0, h0, a1);
            }
            total = Vector512.Sum((a0 + a1) + (a2 + a3));
        }
        else if (width == Width.Vector256)
        {
            var m = Vector256.Create(mean);
            Vector256<double> a0 = default, a1 = default, a2 = default, a3 = default;
            for (; i <= count - 16; i += 16)
            {
                var (l0, h0) = Vector256.Widen(Vector256.Load(x + i));
                var (l1, h1) = Vector256.Widen(Vector256.Load(x + i + 8));
                l0 -= m; h0 -= m; l1 -= m; h1 -= m;
                a0 += l0 * l0; a1 += h0 * h0; a2 += l1 * l1; a3 += h1 * h1;
            }
            for (; i <= count - 8; i += 8)
            {
                var (l0, h0) = Vector256.Widen(Vector256.Load(x + i));
                l0 -= m; h0 -= m;
                a0 += l0 * l0; a1 += h0 * h0;
            }
            total = Vector256.Sum((a0 + a1) + (a2 + a3));
        }
        for (; i < count; i++)
        {
            var d = x[i] - mean;
            total += d * d;
        }
        return total;
    }

    /// <summary>
    /// y = (x − mean)·a + b, then max(0, ·) when relu, over one plane; y may be x. Subtract first, then scale: folding
    /// to a·x + b would cancel the way a one-pass variance does when |mean| ≫ σ.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static unsafe void PlaneNormalize(float* x, int count, float mean, float a, float b, bool relu, float* y, Width width)
    {
        var i = 0;
        if (width == Width.Vector512)
        {
            Vector512<float> m = Vector512.Create(mean), va = Vector512.Create(a), vb = Vector512.Create(b);
            for (; i <= count - 16; i += 16)
            {
                var v = (Vector512.Load(x + i) - m) * va + vb;
                if (relu) v = Vector512.Max(v, Vector512<float>.Zero);
                v.Store(y + i);
            }
        }
        else if (width == Width.Vector256)
        {
            Vector256<float> m = Vector256.Create(mean), va = Vector256.Create(a), vb = Vector256.Create(b);
            for (; i <= count - 8; i += 8)
            {
                var v = (Vector256.Load(x + i) - m) * va + vb;
                if (relu) v = Vector256.Max(v, Vector256<float>.Zero);
                v.Store(y + i);
            }
        }
        for (; i < count; i++)
        {
            var v = (x[i] - mean) * a + b;
            y[i] = relu ? Math.Max(v, 0f) : v;
        }
    }

    /// <summary>
    /// Σ g and Σ g·(x − mean) over one plane in double, g = dy, or dy gated by reluOutput &gt; 0 when reluOutput is
    /// not null (ReLU′(0) = 0): one sweep reading each input once.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static unsafe void PlaneGradientSums(float* dy, float* x, float* reluOutput, int count, double mean, Width width,
        out double sumDy, out double sumDyCentered)
    {
        var i = 0;
        double s = 0, sc = 0;
        if (width == Width.Vector512)
        {
            var m = Vector512.Create(mean);
            Vector512<double> s0 = default, s1 = default, s2 = default, s3 = default;
            Vector512<double> c0 = default, c1 = default, c2 = default, c3 = default;
            for (; i <= count - 32; i += 32)
            {
                var g0 = Vector512.Load(dy + i);
                var g1 = Vector512.Load(dy + i + 16);
                if (reluOutput is not null)
                {
                    g0 &= Vector512.GreaterThan(Vector512.Load(reluOutput + i), Vector512<float>.Zero);
                    g1 &= Vector512.GreaterThan(Vector512.Load(reluOutput + i + 16), Vector512<float>.Zero);
                }
                var (gl0, gh0) = Vector512.Widen(g0);
                var (gl1, gh1) = Vector512.Widen(g1);
                var (xl0, xh0) = Vector512.Widen(Vector512.Load(x + i));
                var (xl1, xh1) = Vector512.Widen(Vector512.Load(x + i + 16));
                s0 += gl0; s1 += gh0; s2 += gl1; s3 += gh1;
                c0 = Vector512.FusedMultiplyAdd(gl0, xl0 - m, c0); c1 = Vector512.FusedMultiplyAdd(gh0, xh0 - m, c1);
                c2 = Vector512.FusedMultiplyAdd(gl1, xl1 - m, c2); c3 = Vector512.FusedMultiplyAdd(gh1, xh1 - m, c3);
            }
            for (; i <= count - 16; i += 16)
            {
                var g0 = Vector512.Load(dy + i);
                if (reluOutput is not null) g0 &= Vector512.GreaterThan(Vector512.Load(reluOutput + i), Vector512<float>.Zero);
                var (gl0, gh0) = Vector512.Widen(g0);
                var (xl0, xh0) = Vector512.Widen(Vector512.Load(x + i));
                s0 += gl0; s1 += gh0;
                c0 = Vector512.FusedMultiplyAdd(gl0, xl0 - m, c0); c1 = Vector512.FusedMultiplyAdd(gh0, xh0 - m, c1);
            }
            s = Vector512.Sum((s0 + s1) + (s2 + s3));
            sc = Vector512.Sum((c0 + c1) + (c2 + c3));
        }
        else if (width == Width.Vector256)
        {
            var m = Vector256.Create(mean);
            Vector256<double> s0 = default, s1 = default, s2 = default, s3 = default;
            Vector256<double> c0 = default, c1 = default, c2 = default, c3 = default;
            for (; i <= count - 16; i += 16)
            {
                var g0 = Vector256.Load(dy + i);
                var g1 = Vector256.Load(dy + i + 8);
                if (reluOutput is not null)
                {
                    g0 &= Vector256.GreaterThan(Vector256.Load(reluOutput + i), Vector256<float>.Zero);
                    g1 &= Vector256.GreaterThan(Vector256.Load(reluOutput + i + 8), Vector256<float>.Zero);
                }
                var (gl0, gh0) = Vector256.Widen(g0);
                var (gl1, gh1) = Vector256.Widen(g1);
                var (xl0, xh0) = Vector256.Widen(Vector256.Load(x + i));
                var (xl1, xh1) = Vector256.Widen(Vector256.Load(x + i + 8));
                s0 += gl0; s1 += gh0; s2 += gl1; s3 += gh1;
                c0 += gl0 * (xl0 - m); c1 += gh0 * (xh0 - m); c2 += gl1 * (xl1 - m); c3 += gh1 * (xh1 - m);
            }
            for (; i <= count - 8; i += 8)
            {
                var g0 = Vector256.Load(dy + i);
                if (reluOutput is not null) g0 &= Vector256.GreaterThan(Vector256.Load(reluOutput + i), Vector256<float>.Zero);
                var (gl0, gh0) = Vector256.Widen(g0);
                var (xl0, xh0) = Vector256.Widen(Vector256.Load(x + i));
                s0 += gl0; s1 += gh0;
                c0 += gl0 * (xl0 - m); c1 += gh0 * (xh0 - m);
            }
            s = Vector256.Sum((s0 + s1) + (s2 + s3));
            sc = Vector256.Sum((c0 + c1) + (c2 + c3));
        }
        for (; i < count; i++)
        {
            double g = reluOutput is null || reluOutput[i] > 0f ? dy[i] : 0f;
            s += g;
            sc += g * (x[i] - mean);
        }
        sumDy = s;
        sumDyCentered = sc;
    }

    /// <summary>
    /// dx = k1·g + (k2·(x − mean) + k3) over one plane, g = dy gated by reluOutput &gt; 0 when reluOutput is not null.
    /// dx may be dy or x: every element is read before it is written.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static unsafe void PlaneInputGradient(float* dy, float* x, float* reluOutput, int count, float mean, float k1, float k2, float k3,
        float* dx, Width width)
    {
        var i = 0;
        if (width == Width.Vector512)
        {
            Vector512<float> m = Vector512.Create(mean), v1 = Vector512.Create(k1), v2 = Vector512.Create(k2), v3 = Vector512.Create(k3);
            for (; i <= count - 16; i += 16)
            {
                var g = Vector512.Load(dy + i);
                if (reluOutput is not null) g &= Vector512.GreaterThan(Vector512.Load(reluOutput + i), Vector512<float>.Zero);
                var t = (Vector512.Load(x + i) - m) * v2 + v3;
                (g * v1 + t).Store(dx + i);
            }
        }
        else if (width == Width.Vector256)
        {
            Vector256<float> m = Vector256.Create(mean), v1 = Vector256.Create(k1), v2 = Vector256.Create(k2), v3 = Vector256.Create(k3);
            for (; i <= count - 8; i += 8)
            {
                var g = Vector256.Load(dy + i);
                if (reluOutput is not null) g &= Vector256.GreaterThan(Vector256.Load(reluOutput + i), Vector256<float>.Zero);
                var t = (Vector256.Load(x + i) - m) * v2 + v3;
                (g * v1 + t).Store(dx + i);
            }
        }
        for (; i < count; i++)
        {
            var g = reluOutput is null || reluOutput[i] > 0f ? dy[i] : 0f;
            var t = (x[i] - mean) * k2 + k3;
            dx[i] = g * k1 + t;
        }
    }
}
