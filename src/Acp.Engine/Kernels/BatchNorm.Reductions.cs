using System.Diagnostics;
using System.Numerics;
using System.Runtime.InteropServices;

namespace Acp.Engine.Kernels;

/// <summary>
/// Float-to-double reductions with a fixed association order, shared by the BatchNorm, Broadcast and Losses
/// kernels. TensorPrimitives reduces only in the element type, so a float sum over a large channel (n·hw can be
/// millions of values) would lose digits; these loops widen every element to double, keep one partial sum per vector
/// lane and combine them the same way every time, so a given input on a given machine always produces the same bits
/// and the order is ours rather than a library implementation detail.
/// </summary>
internal static class DoubleReductions
{
    /// <summary>Σ x[i], accumulated in double.</summary>
    internal static double Sum(ReadOnlySpan<float> x)
    {
        var i = 0;
        var acc0 = Vector<double>.Zero;
        var acc1 = Vector<double>.Zero;
        if (Vector.IsHardwareAccelerated)
        {
            var vx = MemoryMarshal.Cast<float, Vector<float>>(x);
            foreach (var v in vx)
            {
                Vector.Widen(v, out var lo, out var hi);
                acc0 += lo;
                acc1 += hi;
            }

            i = vx.Length * Vector<float>.Count;
        }

        var sum = Vector.Sum(acc0 + acc1);
        for (; i < x.Length; i++)
        {
            sum += x[i];
        }

        return sum;
    }

    /// <summary>Σ x[i]², accumulated in double.</summary>
    internal static double SumOfSquares(ReadOnlySpan<float> x) => Dot(x, x);

    /// <summary>Σ (x[i] − mean)², with the subtraction done in double (the second pass of a two-pass variance).</summary>
    internal static double SumOfSquaredDeviations(ReadOnlySpan<float> x, double mean)
    {
        var i = 0;
        var acc0 = Vector<double>.Zero;
        var acc1 = Vector<double>.Zero;
        if (Vector.IsHardwareAccelerated)
        {
            var m = new Vector<double>(mean);
            var vx = MemoryMarshal.Cast<float, Vector<float>>(x);
            foreach (var v in vx)
            {
                Vector.Widen(v, out var lo, out var hi);
                lo -= m;
                hi -= m;
                acc0 += lo * lo;
                acc1 += hi * hi;
            }

            i = vx.Length * Vector<float>.Count;
        }

        var sum = Vector.Sum(acc0 + acc1);
        for (; i < x.Length; i++)
        {
            var d = x[i] - mean;
            sum += d * d;
        }

        return sum;
    }

    /// <summary>Σ a[i]·b[i], products and sums in double. The spans must have the same length.</summary>
    internal static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        Debug.Assert(a.Length == b.Length);
        var i = 0;
        var acc0 = Vector<double>.Zero;
        var acc1 = Vector<double>.Zero;
        if (Vector.IsHardwareAccelerated)
        {
            var va = MemoryMarshal.Cast<float, Vector<float>>(a);
            var vb = MemoryMarshal.Cast<float, Vector<float>>(b);
            for (var k = 0; k < va.Length; k++)
            {
                Vector.Widen(va[k], out var alo, out var ahi);
                Vector.Widen(vb[k], out var blo, out var bhi);
                acc0 += alo * blo;
                acc1 += ahi * bhi;
            }

            i = va.Length * Vector<float>.Count;
        }

        var sum = Vector.Sum(acc0 + acc1);
        for (; i < a.Length; i++)
        {
            sum += (double)a[i] * b[i];
        }

        return sum;
    }

    /// <summary>Σ dy[i]·(x[i] − mean) in double: the BatchNorm backward's Σ dy·x̂ before the 1/σ factor.</summary>
    internal static double DotWithDeviations(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, double mean)
    {
        Debug.Assert(dy.Length == x.Length);
        var i = 0;
        var acc0 = Vector<double>.Zero;
        var acc1 = Vector<double>.Zero;
        if (Vector.IsHardwareAccelerated)
        {
            var m = new Vector<double>(mean);
            var vd = MemoryMarshal.Cast<float, Vector<float>>(dy);
            var vx = MemoryMarshal.Cast<float, Vector<float>>(x);
            for (var k = 0; k < vd.Length; k++)
            {
                Vector.Widen(vd[k], out var dlo, out var dhi);
                Vector.Widen(vx[k], out var xlo, out var xhi);
                acc0 += dlo * (xlo - m);
                acc1 += dhi * (xhi - m);
            }

            i = vd.Length * Vector<float>.Count;
        }

        var sum = Vector.Sum(acc0 + acc1);
        for (; i < dy.Length; i++)
        {
            sum += dy[i] * (x[i] - mean);
        }

        return sum;
    }

    /// <summary>acc[i] += x[i] for every i, in double (row accumulation of a reduction over a leading axis).</summary>
    internal static void AddTo(Span<double> acc, ReadOnlySpan<float> x)
    {
        Debug.Assert(acc.Length == x.Length);
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var vx = MemoryMarshal.Cast<float, Vector<float>>(x);
            var vacc = MemoryMarshal.Cast<double, Vector<double>>(acc);
            // A Vector<float> widens to exactly two Vector<double>, so float vector k covers double vectors 2k, 2k+1.
            for (var k = 0; k < vx.Length; k++)
            {
                Vector.Widen(vx[k], out var lo, out var hi);
                vacc[2 * k] += lo;
                vacc[2 * k + 1] += hi;
            }

            i = vx.Length * Vector<float>.Count;
        }

        for (; i < x.Length; i++)
        {
            acc[i] += x[i];
        }
    }

    /// <summary>acc[i] += x[i]² for every i, in double (a sum of squares over channels, position by position).</summary>
    internal static void AddSquaresTo(Span<double> acc, ReadOnlySpan<float> x)
    {
        Debug.Assert(acc.Length == x.Length);
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var vx = MemoryMarshal.Cast<float, Vector<float>>(x);
            var vacc = MemoryMarshal.Cast<double, Vector<double>>(acc);
            for (var k = 0; k < vx.Length; k++)
            {
                Vector.Widen(vx[k], out var lo, out var hi);
                vacc[2 * k] += lo * lo;
                vacc[2 * k + 1] += hi * hi;
            }

            i = vx.Length * Vector<float>.Count;
        }

        for (; i < x.Length; i++)
        {
            acc[i] += (double)x[i] * x[i];
        }
    }

    /// <summary>
    /// Σ x[i] over a long buffer using every core but still deterministically: the buffer is cut into blocks of a
    /// fixed size (independent of the thread count), each block is summed on its own and the block sums are added in
    /// block order.
    /// </summary>
    internal static double ParallelSum(float[] x, int offset, int count)
    {
        const int Block = 1 << 16;
        if (count <= 2 * Block)
        {
            return Sum(x.AsSpan(offset, count));
        }

        var blocks = (count + Block - 1) / Block;
        var partial = new double[blocks];
        Parallel.For(0, blocks, k =>
        {
            var start = k * Block;
            partial[k] = Sum(x.AsSpan(offset + start, Math.Min(Block, count - start)));
        });

        var sum = 0.0;
        foreach (var p in partial)
        {
            sum += p;
        }

        return sum;
    }
}
