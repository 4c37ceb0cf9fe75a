using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Acp.Engine.Kernels;

/// <summary>
/// Copies blocks of A and B into the panel layouts the micro-kernels stream: A into MR-row panels (element (r, p) of
/// a panel at p·MR + r), B into NR-column panels (element (p, j) at p·NR + j). Partial panels are zero-padded, so a
/// kernel never reads uninitialised memory. Where the copy is a transposition, 8×8 blocks go through AVX registers:
/// element-wise gathers with a stride cost about as much as the multiply for the engine's matrix sizes.
/// </summary>
internal static unsafe class GemmPacking
{
    /// <summary>
    /// Packs rows [0, mc) × columns [0, kc) of op(A), where op(A)[i, p] = a[i·ars + p·acs] and one of ars, acs is 1,
    /// into ⌈mc / mr⌉ panels of kc × mr.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void PackA(float* a, nint ars, nint acs, int mc, int kc, int mr, float* dst)
    {
        for (var i0 = 0; i0 < mc; i0 += mr)
        {
            var rows = Math.Min(mr, mc - i0);
            var panel = dst + (nint)i0 * kc;
            var src = a + i0 * ars;
            if (ars == 1)
            {
                // Aᵀ stored: each k-step's mr values are contiguous.
                CopyRows(src, acs, kc, rows, mr, panel);
            }
            else
            {
                Transpose(src, ars, rows, kc, mr, panel);
            }
        }
    }

    /// <summary>
    /// Packs rows [0, kc) × columns [0, nc) of op(B), where op(B)[p, j] = b[p·bs + j] when not
    /// <paramref name="transposed"/> and b[j·bs + p] when it is, into ⌈nc / nr⌉ panels of kc × nr.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void PackB(float* b, nint bs, bool transposed, int kc, int nc, int nr, float* dst)
    {
        for (var j0 = 0; j0 < nc; j0 += nr)
        {
            var cols = Math.Min(nr, nc - j0);
            var panel = dst + (nint)j0 * kc;
            if (transposed)
            {
                Transpose(b + j0 * bs, bs, cols, kc, nr, panel);
            }
            else
            {
                CopyRows(b + j0, bs, kc, cols, nr, panel);
            }
        }
    }

    /// <summary>dst[p·width + j] = src[p·stride + j] for j &lt; count, 0 for count ≤ j &lt; width.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void CopyRows(float* src, nint stride, int rows, int count, int width, float* dst)
    {
        for (var p = 0; p < rows; p++)
        {
            var s = src + p * stride;
            var d = dst + p * width;
            var j = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                for (; j + 8 <= count; j += 8)
                {
                    Vector256.Store(Vector256.Load(s + j), d + j);
                }
            }

            for (; j < count; j++)
            {
                d[j] = s[j];
            }

            for (; j < width; j++)
            {
                d[j] = 0;
            }
        }
    }

    /// <summary>
    /// dst[p·width + q] = src[q·stride + p] for q &lt; count, p &lt; length; 0 for count ≤ q &lt; width. That is,
    /// <paramref name="count"/> source rows of <paramref name="length"/> elements become columns of a panel.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Transpose(float* src, nint stride, int count, int length, int width, float* dst)
    {
        var q = 0;
        if (Avx.IsSupported)
        {
            for (; q + 8 <= count; q += 8)
            {
                var s = src + q * stride;
                var p = 0;
                for (; p + 8 <= length; p += 8)
                {
                    Transpose8x8(s + p, stride, dst + (nint)p * width + q, width);
                }

                for (; p < length; p++)
                {
                    for (var r = 0; r < 8; r++)
                    {
                        dst[(nint)p * width + q + r] = s[r * stride + p];
                    }
                }
            }
        }

        for (; q < count; q++)
        {
            var s = src + q * stride;
            for (var p = 0; p < length; p++)
            {
                dst[(nint)p * width + q] = s[p];
            }
        }

        if (count < width)
        {
            for (var p = 0; p < length; p++)
            {
                new Span<float>(dst + (nint)p * width + count, width - count).Clear();
            }
        }
    }

    /// <summary>Writes the transpose of the 8×8 block at <paramref name="src"/> (row stride ss) to dst (row stride ds).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(float* src, nint ss, float* dst, nint ds)
    {
        Load8x8Transposed(src, ss, out var o0, out var o1, out var o2, out var o3, out var o4, out var o5, out var o6, out var o7);
        Avx.Store(dst, o0);
        Avx.Store(dst + ds, o1);
        Avx.Store(dst + 2 * ds, o2);
        Avx.Store(dst + 3 * ds, o3);
        Avx.Store(dst + 4 * ds, o4);
        Avx.Store(dst + 5 * ds, o5);
        Avx.Store(dst + 6 * ds, o6);
        Avx.Store(dst + 7 * ds, o7);
    }

    /// <summary>
    /// C = ctᵀ + beta · C on the m×n window, where ct is n×m with row stride m; beta = 0 ignores C. Used when a
    /// product was computed transposed.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void MergeTransposed(int m, int n, float* ct, float beta, float* c, nint ldc)
    {
        var i = 0;
        if (Avx.IsSupported)
        {
            var bv = Vector256.Create(beta);
            for (; i + 8 <= m; i += 8)
            {
                var j = 0;
                for (; j + 8 <= n; j += 8)
                {
                    var d = c + i * ldc + j;
                    Load8x8Transposed(ct + (nint)j * m + i, m, out var o0, out var o1, out var o2, out var o3,
                        out var o4, out var o5, out var o6, out var o7);
                    if (beta != 0)
                    {
                        o0 = AddScaled(o0, d, bv);
                        o1 = AddScaled(o1, d + ldc, bv);
                        o2 = AddScaled(o2, d + 2 * ldc, bv);
                        o3 = AddScaled(o3, d + 3 * ldc, bv);
                        o4 = AddScaled(o4, d + 4 * ldc, bv);
                        o5 = AddScaled(o5, d + 5 * ldc, bv);
                        o6 = AddScaled(o6, d + 6 * ldc, bv);
                        o7 = AddScaled(o7, d + 7 * ldc, bv);
                    }

                    Avx.Store(d, o0);
                    Avx.Store(d + ldc, o1);
                    Avx.Store(d + 2 * ldc, o2);
                    Avx.Store(d + 3 * ldc, o3);
                    Avx.Store(d + 4 * ldc, o4);
                    Avx.Store(d + 5 * ldc, o5);
                    Avx.Store(d + 6 * ldc, o6);
                    Avx.Store(d + 7 * ldc, o7);
                }

                MergeTransposedScalar(i, i + 8, j, n, m, ct, beta, c, ldc);
            }
        }

        MergeTransposedScalar(i, m, 0, n, m, ct, beta, c, ldc);
    }

    /// <summary>value + beta · (8 floats at c).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> AddScaled(Vector256<float> value, float* c, Vector256<float> beta) =>
        Fma.IsSupported ? Fma.MultiplyAdd(Avx.LoadVector256(c), beta, value) : value + Avx.LoadVector256(c) * beta;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MergeTransposedScalar(int i0, int i1, int j0, int j1, int m, float* ct, float beta, float* c, nint ldc)
    {
        for (var i = i0; i < i1; i++)
        {
            var row = c + i * ldc;
            var col = ct + i;
            for (var j = j0; j < j1; j++)
            {
                row[j] = beta == 0 ? col[(nint)j * m] : col[(nint)j * m] + beta * row[j];
            }
        }
    }

    /// <summary>Loads the 8×8 block at <paramref name="src"/> (row stride ss) and returns its columns.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Load8x8Transposed(float* src, nint ss, out Vector256<float> o0, out Vector256<float> o1,
        out Vector256<float> o2, out Vector256<float> o3, out Vector256<float> o4, out Vector256<float> o5,
        out Vector256<float> o6, out Vector256<float> o7)
    {
        var r0 = Avx.LoadVector256(src);
        var r1 = Avx.LoadVector256(src + ss);
        var r2 = Avx.LoadVector256(src + 2 * ss);
        var r3 = Avx.LoadVector256(src + 3 * ss);
        var r4 = Avx.LoadVector256(src + 4 * ss);
        var r5 = Avx.LoadVector256(src + 5 * ss);
        var r6 = Avx.LoadVector256(src + 6 * ss);
        var r7 = Avx.LoadVector256(src + 7 * ss);

        // Interleave pairs of rows, then pairs of pairs, within each 128-bit half; then swap halves across.
        var t0 = Avx.UnpackLow(r0, r1);
        var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5);
        var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7);
        var t7 = Avx.UnpackHigh(r6, r7);

        var u0 = Avx.Shuffle(t0, t2, 0x44);
        var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44);
        var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44);
        var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44);
        var u7 = Avx.Shuffle(t5, t7, 0xEE);

        o0 = Avx.Permute2x128(u0, u4, 0x20);
        o1 = Avx.Permute2x128(u1, u5, 0x20);
        o2 = Avx.Permute2x128(u2, u6, 0x20);
        o3 = Avx.Permute2x128(u3, u7, 0x20);
        o4 = Avx.Permute2x128(u0, u4, 0x31);
        o5 = Avx.Permute2x128(u1, u5, 0x31);
        o6 = Avx.Permute2x128(u2, u6, 0x31);
        o7 = Avx.Permute2x128(u3, u7, 0x31);
    }
}
