using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Acp.Engine.Kernels;

/// <summary>
/// AVX-512 micro-kernel, 8×32: sixteen zmm accumulators, two B vectors and one broadcast of A per step, leaving room
/// in the 32 registers so that nothing spills. Eight rows keep the FMA pipes (2 ports × 4 cycles latency) fed with
/// 16 independent chains and match the channel counts of CNNs, which are mostly multiples of 8. Ragged right edges
/// use masked loads and stores, which never fault on the masked-off lanes, so B and C need no padding. Variants:
/// <see cref="Full{TMask}"/> for whole-height tiles (about 86% of the FMA peak from L1), <see cref="Tile2{TMask}"/>
/// and <see cref="Tile1{TMask}"/> for the bottom and right edges, <see cref="Narrow{TMask}"/> (16×16) for C at most
/// 16 wide.
/// </summary>
internal readonly unsafe struct GemmKernel512 : IGemmKernel
{
    public static int Mr => 8;

    public static int Nr => 32;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Tile(int kc, float* a, nint ars, nint acs, float* b, nint bs, float* c, nint ldc,
        int mr, int nr, float alpha, float beta)
    {
        if (nr == 32 && mr == 8)
        {
            Full<GemmUnmasked>(kc, a, ars, acs, b, bs, c, ldc, nr, alpha, beta);
        }
        else if (nr == 32)
        {
            Tile2<GemmUnmasked>(kc, a, ars, acs, b, bs, c, ldc, mr, nr, alpha, beta);
        }
        else if (nr > 16 && mr == 8)
        {
            Full<GemmMasked>(kc, a, ars, acs, b, bs, c, ldc, nr, alpha, beta);
        }
        else if (nr > 16)
        {
            Tile2<GemmMasked>(kc, a, ars, acs, b, bs, c, ldc, mr, nr, alpha, beta);
        }
        else if (nr == 16)
        {
            Tile1<GemmUnmasked>(kc, a, ars, acs, b, bs, c, ldc, mr, nr, alpha, beta);
        }
        else
        {
            Tile1<GemmMasked>(kc, a, ars, acs, b, bs, c, ldc, mr, nr, alpha, beta);
        }
    }

    public static int NarrowMr => 16;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void NarrowTile(int kc, float* a, nint ars, nint acs, float* b, nint bs, float* c, nint ldc,
        int nr, float alpha, float beta)
    {
        if (nr == 16)
        {
            Narrow<GemmUnmasked>(kc, a, ars, acs, b, bs, c, ldc, nr, alpha, beta);
        }
        else
        {
            Narrow<GemmMasked>(kc, a, ars, acs, b, bs, c, ldc, nr, alpha, beta);
        }
    }

    /// <summary>Lanes below <paramref name="count"/> set.</summary>
    private static Vector512<float> Mask(int count) =>
        Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(count)).AsSingle();

    /// <summary>
    /// 8 rows × 17..32 columns, the common case. Rows are reached from two base pointers plus 0, 1, 2, 3 row strides
    /// (free in x64 addressing) instead of eight pointers, which leaves enough integer registers for nothing to spill
    /// in the loop.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Full<TMask>(int kc, float* a, nint ars, nint acs, float* b, nint bs, float* c, nint ldc,
        int nr, float alpha, float beta)
        where TMask : struct, IGemmMaskMode
    {
        float* a0 = a, a4 = a + 4 * ars;
        nint s1 = ars, s2 = 2 * ars, s3 = 3 * ars;
        var mask = TMask.Enabled ? Mask(nr - 16) : default;

        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector512<float> c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<float> c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<float> c60 = default, c61 = default, c70 = default, c71 = default;
        for (var p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b);
            var b1 = TMask.Enabled ? Avx512F.MaskLoad(b + 16, mask, Vector512<float>.Zero) : Vector512.Load(b + 16);
            var x = Vector512.Create(a0[0]);
            c00 = Vector512.FusedMultiplyAdd(x, b0, c00);
            c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(a0[s1]);
            c10 = Vector512.FusedMultiplyAdd(x, b0, c10);
            c11 = Vector512.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(a0[s2]);
            c20 = Vector512.FusedMultiplyAdd(x, b0, c20);
            c21 = Vector512.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(a0[s3]);
            c30 = Vector512.FusedMultiplyAdd(x, b0, c30);
            c31 = Vector512.FusedMultiplyAdd(x, b1, c31);
            x = Vector512.Create(a4[0]);
            c40 = Vector512.FusedMultiplyAdd(x, b0, c40);
            c41 = Vector512.FusedMultiplyAdd(x, b1, c41);
            x = Vector512.Create(a4[s1]);
            c50 = Vector512.FusedMultiplyAdd(x, b0, c50);
            c51 = Vector512.FusedMultiplyAdd(x, b1, c51);
            x = Vector512.Create(a4[s2]);
            c60 = Vector512.FusedMultiplyAdd(x, b0, c60);
            c61 = Vector512.FusedMultiplyAdd(x, b1, c61);
            x = Vector512.Create(a4[s3]);
            c70 = Vector512.FusedMultiplyAdd(x, b0, c70);
            c71 = Vector512.FusedMultiplyAdd(x, b1, c71);
            a0 += acs;
            a4 += acs;
            b += bs;
        }

        var av = Vector512.Create(alpha);
        var bv = Vector512.Create(beta);
        var useBeta = beta != 0;
        Store2<TMask>(c, c00, c01, av, bv, useBeta, mask);
        Store2<TMask>(c + ldc, c10, c11, av, bv, useBeta, mask);
        Store2<TMask>(c + 2 * ldc, c20, c21, av, bv, useBeta, mask);
        Store2<TMask>(c + 3 * ldc, c30, c31, av, bv, useBeta, mask);
        c += 4 * ldc;
        Store2<TMask>(c, c40, c41, av, bv, useBeta, mask);
        Store2<TMask>(c + ldc, c50, c51, av, bv, useBeta, mask);
        Store2<TMask>(c + 2 * ldc, c60, c61, av, bv, useBeta, mask);
        Store2<TMask>(c + 3 * ldc, c70, c71, av, bv, useBeta, mask);
    }

    /// <summary>
    /// Up to 8 rows × 17..32 columns, for the bottom edge of C; the second vector is masked when
    /// <typeparamref name="TMask"/> says.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile2<TMask>(int kc, float* a, nint ars, nint acs, float* b, nint bs, float* c, nint ldc,
        int mr, int nr, float alpha, float beta)
        where TMask : struct, IGemmMaskMode
    {
        // Rows past mr alias row 0: they compute garbage that is never stored, but never read outside A.
        float* a0 = a, a1 = mr > 1 ? a + ars : a, a2 = mr > 2 ? a + 2 * ars : a, a3 = mr > 3 ? a + 3 * ars : a;
        float* a4 = mr > 4 ? a + 4 * ars : a, a5 = mr > 5 ? a + 5 * ars : a, a6 = mr > 6 ? a + 6 * ars : a, a7 = mr > 7 ? a + 7 * ars : a;
        var mask = TMask.Enabled ? Mask(nr - 16) : default;

        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector512<float> c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<float> c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<float> c60 = default, c61 = default, c70 = default, c71 = default;
        nint off = 0;
        for (var p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b);
            var b1 = TMask.Enabled ? Avx512F.MaskLoad(b + 16, mask, Vector512<float>.Zero) : Vector512.Load(b + 16);
            var x = Vector512.Create(a0[off]);
            c00 = Vector512.FusedMultiplyAdd(x, b0, c00);
            c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(a1[off]);
            c10 = Vector512.FusedMultiplyAdd(x, b0, c10);
            c11 = Vector512.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(a2[off]);
            c20 = Vector512.FusedMultiplyAdd(x, b0, c20);
            c21 = Vector512.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(a3[off]);
            c30 = Vector512.FusedMultiplyAdd(x, b0, c30);
            c31 = Vector512.FusedMultiplyAdd(x, b1, c31);
            x = Vector512.Create(a4[off]);
            c40 = Vector512.FusedMultiplyAdd(x, b0, c40);
            c41 = Vector512.FusedMultiplyAdd(x, b1, c41);
            x = Vector512.Create(a5[off]);
            c50 = Vector512.FusedMultiplyAdd(x, b0, c50);
            c51 = Vector512.FusedMultiplyAdd(x, b1, c51);
            x = Vector512.Create(a6[off]);
            c60 = Vector512.FusedMultiplyAdd(x, b0, c60);
            c61 = Vector512.FusedMultiplyAdd(x, b1, c61);
            x = Vector512.Create(a7[off]);
            c70 = Vector512.FusedMultiplyAdd(x, b0, c70);
            c71 = Vector512.FusedMultiplyAdd(x, b1, c71);
            off += acs;
            b += bs;
        }

        var av = Vector512.Create(alpha);
        var bv = Vector512.Create(beta);
        var useBeta = beta != 0;
        Store2<TMask>(c, c00, c01, av, bv, useBeta, mask);
        if (mr > 1) Store2<TMask>(c + ldc, c10, c11, av, bv, useBeta, mask);
        if (mr > 2) Store2<TMask>(c + 2 * ldc, c20, c21, av, bv, useBeta, mask);
        if (mr > 3) Store2<TMask>(c + 3 * ldc, c30, c31, av, bv, useBeta, mask);
        if (mr > 4) Store2<TMask>(c + 4 * ldc, c40, c41, av, bv, useBeta, mask);
        if (mr > 5) Store2<TMask>(c + 5 * ldc, c50, c51, av, bv, useBeta, mask);
        if (mr > 6) Store2<TMask>(c + 6 * ldc, c60, c61, av, bv, useBeta, mask);
        if (mr > 7) Store2<TMask>(c + 7 * ldc, c70, c71, av, bv, useBeta, mask);
    }

    /// <summary>Up to 8 rows × 1..16 columns: one vector per row, masked when <typeparamref name="TMask"/> says.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile1<TMask>(int kc, float* a, nint ars, nint acs, float* b, nint bs, float* c, nint ldc,
        int mr, int nr, float alpha, float beta)
        where TMask : struct, IGemmMaskMode
    {
        float* a0 = a, a1 = mr > 1 ? a + ars : a, a2 = mr > 2 ? a + 2 * ars : a, a3 = mr > 3 ? a + 3 * ars : a;
        float* a4 = mr > 4 ? a + 4 * ars : a, a5 = mr > 5 ? a + 5 * ars : a, a6 = mr > 6 ? a + 6 * ars : a, a7 = mr > 7 ? a + 7 * ars : a;
        var mask = TMask.Enabled ? Mask(nr) : default;

        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default;
        Vector512<float> c4 = default, c5 = default, c6 = default, c7 = default;
        nint off = 0;
        for (var p = 0; p < kc; p++)
        {
            var b0 = TMask.Enabled ? Avx512F.MaskLoad(b, mask, Vector512<float>.Zero) : Vector512.Load(b);
            c0 = Vector512.FusedMultiplyAdd(Vector512.Create(a0[off]), b0, c0);
            c1 = Vector512.FusedMultiplyAdd(Vector512.Create(a1[off]), b0, c1);
            c2 = Vector512.FusedMultiplyAdd(Vector512.Create(a2[off]), b0, c2);
            c3 = Vector512.FusedMultiplyAdd(Vector512.Create(a3[off]), b0, c3);
            c4 = Vector512.FusedMultiplyAdd(Vector512.Create(a4[off]), b0, c4);
            c5 = Vector512.FusedMultiplyAdd(Vector512.Create(a5[off]), b0, c5);
            c6 = Vector512.FusedMultiplyAdd(Vector512.Create(a6[off]), b0, c6);
            c7 = Vector512.FusedMultiplyAdd(Vector512.Create(a7[off]), b0, c7);
            off += acs;
            b += bs;
        }

        var av = Vector512.Create(alpha);
        var bv = Vector512.Create(beta);
        var useBeta = beta != 0;
        Store1<TMask>(c, c0, av, bv, useBeta, mask);
        if (mr > 1) Store1<TMask>(c + ldc, c1, av, bv, useBeta, mask);
        if (mr > 2) Store1<TMask>(c + 2 * ldc, c2, av, bv, useBeta, mask);
        if (mr > 3) Store1<TMask>(c + 3 * ldc, c3, av, bv, useBeta, mask);
        if (mr > 4) Store1<TMask>(c + 4 * ldc, c4, av, bv, useBeta, mask);
        if (mr > 5) Store1<TMask>(c + 5 * ldc, c5, av, bv, useBeta, mask);
        if (mr > 6) Store1<TMask>(c + 6 * ldc, c6, av, bv, useBeta, mask);
        if (mr > 7) Store1<TMask>(c + 7 * ldc, c7, av, bv, useBeta, mask);
    }

    /// <summary>
    /// 16 rows × up to 16 columns: sixteen accumulators against the eight of <see cref="Tile1{TMask}"/>, so that one B
    /// load feeds 16 FMAs. The rows are reached from four base pointers plus 0, 1, 2, 3 row strides, which x64
    /// addressing does for free, rather than through 16 pointers that would not fit in the integer registers.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Narrow<TMask>(int kc, float* a, nint ars, nint acs, float* b, nint bs, float* c, nint ldc,
        int nr, float alpha, float beta)
        where TMask : struct, IGemmMaskMode
    {
        float* a0 = a, a4 = a + 4 * ars, a8 = a + 8 * ars, a12 = a + 12 * ars;
        nint s1 = ars, s2 = 2 * ars, s3 = 3 * ars;
        var mask = TMask.Enabled ? Mask(nr) : default;

        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default;
        Vector512<float> c4 = default, c5 = default, c6 = default, c7 = default;
        Vector512<float> c8 = default, c9 = default, c10 = default, c11 = default;
        Vector512<float> c12 = default, c13 = default, c14 = default, c15 = default;
        for (var p = 0; p < kc; p++)
        {
            var b0 = TMask.Enabled ? Avx512F.MaskLoad(b, mask, Vector512<float>.Zero) : Vector512.Load(b);
            c0 = Vector512.FusedMultiplyAdd(Vector512.Create(a0[0]), b0, c0);
            c1 = Vector512.FusedMultiplyAdd(Vector512.Create(a0[s1]), b0, c1);
            c2 = Vector512.FusedMultiplyAdd(Vector512.Create(a0[s2]), b0, c2);
            c3 = Vector512.FusedMultiplyAdd(Vector512.Create(a0[s3]), b0, c3);
            c4 = Vector512.FusedMultiplyAdd(Vector512.Create(a4[0]), b0, c4);
            c5 = Vector512.FusedMultiplyAdd(Vector512.Create(a4[s1]), b0, c5);
            c6 = Vector512.FusedMultiplyAdd(Vector512.Create(a4[s2]), b0, c6);
            c7 = Vector512.FusedMultiplyAdd(Vector512.Create(a4[s3]), b0, c7);
            c8 = Vector512.FusedMultiplyAdd(Vector512.Create(a8[0]), b0, c8);
            c9 = Vector512.FusedMultiplyAdd(Vector512.Create(a8[s1]), b0, c9);
            c10 = Vector512.FusedMultiplyAdd(Vector512.Create(a8[s2]), b0, c10);
            c11 = Vector512.FusedMultiplyAdd(Vector512.Create(a8[s3]), b0, c11);
            c12 = Vector512.FusedMultiplyAdd(Vector512.Create(a12[0]), b0, c12);
            c13 = Vector512.FusedMultiplyAdd(Vector512.Create(a12[s1]), b0, c13);
            c14 = Vector512.FusedMultiplyAdd(Vector512.Create(a12[s2]), b0, c14);
            c15 = Vector512.FusedMultiplyAdd(Vector512.Create(a12[s3]), b0, c15);
            a0 += acs;
            a4 += acs;
            a8 += acs;
            a12 += acs;
            b += bs;
        }

        var av = Vector512.Create(alpha);
        var bv = Vector512.Create(beta);
        var useBeta = beta != 0;
        Store1<TMask>(c, c0, av, bv, useBeta, mask);
        Store1<TMask>(c + ldc, c1, av, bv, useBeta, mask);
        Store1<TMask>(c + 2 * ldc, c2, av, bv, useBeta, mask);
        Store1<TMask>(c + 3 * ldc, c3, av, bv, useBeta, mask);
        c += 4 * ldc;
        Store1<TMask>(c, c4, av, bv, useBeta, mask);
        Store1<TMask>(c + ldc, c5, av, bv, useBeta, mask);
        Store1<TMask>(c + 2 * ldc, c6, av, bv, useBeta, mask);
        Store1<TMask>(c + 3 * ldc, c7, av, bv, useBeta, mask);
        c += 4 * ldc;
        Store1<TMask>(c, c8, av, bv, useBeta, mask);
        Store1<TMask>(c + ldc, c9, av, bv, useBeta, mask);
        Store1<TMask>(c + 2 * ldc, c10, av, bv, useBeta, mask);
        Store1<TMask>(c + 3 * ldc, c11, av, bv, useBeta, mask);
        c += 4 * ldc;
        Store1<TMask>(c, c12, av, bv, useBeta, mask);
        Store1<TMask>(c + ldc, c13, av, bv, useBeta, mask);
        Store1<TMask>(c + 2 * ldc, c14, av, bv, useBeta, mask);
        Store1<TMask>(c + 3 * ldc, c15, av, bv, useBeta, mask);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store2<TMask>(float* c, Vector512<float> acc0, Vector512<float> acc1, Vector512<float> alpha,
        Vector512<float> beta, bool useBeta, Vector512<float> mask)
        where TMask : struct, IGemmMaskMode
    {
        var r0 = acc0 * alpha;
        var r1 = acc1 * alpha;
        if (useBeta)
        {
            r0 = Vector512.FusedMultiplyAdd(Vector512.Load(c), beta, r0);
            r1 = Vector512.FusedMultiplyAdd(
                TMask.Enabled ? Avx512F.MaskLoad(c + 16, mask, Vector512<float>.Zero) : Vector512.Load(c + 16), beta, r1);
        }

        r0.Store(c);
        if (TMask.Enabled)
        {
            Avx512F.MaskStore(c + 16, mask, r1);
        }
        else
        {
            r1.Store(c + 16);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store1<TMask>(float* c, Vector512<float> acc, Vector512<float> alpha, Vector512<float> beta,
        bool useBeta, Vector512<float> mask)
        where TMask : struct, IGemmMaskMode
    {
        var r = acc * alpha;
        if (useBeta)
        {
            r = Vector512.FusedMultiplyAdd(
                TMask.Enabled ? Avx512F.MaskLoad(c, mask, Vector512<float>.Zero) : Vector512.Load(c), beta, r);
        }

        if (TMask.Enabled)
        {
            Avx512F.MaskStore(c, mask, r);
        }
        else
        {
            r.Store(c);
        }
    }
}
