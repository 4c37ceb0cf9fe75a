using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Acp.Engine.Kernels;

/// <summary>
/// AVX2 + FMA micro-kernel, 6×16: twelve ymm accumulators, two B vectors and one broadcast fill 15 of the 16 registers
/// that exist without AVX-512. Ragged right edges use <c>vmaskmovps</c>, which does not fault on masked-off lanes.
/// </summary>
internal readonly unsafe struct GemmKernel256 : IGemmKernel
{
    public static int Mr => 6;

    public static int Nr => 16;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Tile(int kc, float* a, nint ars, nint acs, float* b, nint bs, float* c, nint ldc,
        int mr, int nr, float alpha, float beta)
    {
        if (nr == 16)
        {
            Tile2<GemmUnmasked>(kc, a, ars, acs, b, bs, c, ldc, mr, nr, alpha, beta);
        }
        else if (nr > 8)
        {
            Tile2<GemmMasked>(kc, a, ars, acs, b, bs, c, ldc, mr, nr, alpha, beta);
        }
        else if (nr == 8)
        {
            Tile1<GemmUnmasked>(kc, a, ars, acs, b, bs, c, ldc, mr, nr, alpha, beta);
        }
        else
        {
            Tile1<GemmMasked>(kc, a, ars, acs, b, bs, c, ldc, mr, nr, alpha, beta);
        }
    }

    public static int NarrowMr => 12;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void NarrowTile(int kc, float* a, nint ars, nint acs, float* b, nint bs, float* c, nint ldc,
        int nr, float alpha, float beta)
    {
        if (nr == 8)
        {
            Narrow<GemmUnmasked>(kc, a, ars, acs, b, bs, c, ldc, nr, alpha, beta);
        }
        else
        {
            Narrow<GemmMasked>(kc, a, ars, acs, b, bs, c, ldc, nr, alpha, beta);
        }
    }

    private static Vector256<float> Mask(int count) =>
        Vector256.LessThan(Vector256<int>.Indices, Vector256.Create(count)).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile2<TMask>(int kc, float* a, nint ars, nint acs, float* b, nint bs, float* c, nint ldc,
        int mr, int nr, float alpha, float beta)
        where TMask : struct, IGemmMaskMode
    {
        // Rows past mr alias row 0: they compute garbage that is never stored, but never read outside A.
        float* a0 = a, a1 = mr > 1 ? a + ars : a, a2 = mr > 2 ? a + 2 * ars : a;
        float* a3 = mr > 3 ? a + 3 * ars : a, a4 = mr > 4 ? a + 4 * ars : a, a5 = mr > 5 ? a + 5 * ars : a;
        var mask = TMask.Enabled ? Mask(nr - 8) : default;

        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        nint off = 0;
        for (var p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(b);
            var b1 = TMask.Enabled ? Avx.MaskLoad(b + 8, mask) : Vector256.Load(b + 8);
            var x = Vector256.Create(a0[off]);
            c00 = Fma.MultiplyAdd(x, b0, c00);
            c01 = Fma.MultiplyAdd(x, b1, c01);
            x = Vector256.Create(a1[off]);
            c10 = Fma.MultiplyAdd(x, b0, c10);
            c11 = Fma.MultiplyAdd(x, b1, c11);
            x = Vector256.Create(a2[off]);
            c20 = Fma.MultiplyAdd(x, b0, c20);
            c21 = Fma.MultiplyAdd(x, b1, c21);
            x = Vector256.Create(a3[off]);
            c30 = Fma.MultiplyAdd(x, b0, c30);
            c31 = Fma.MultiplyAdd(x, b1, c31);
            x = Vector256.Create(a4[off]);
            c40 = Fma.MultiplyAdd(x, b0, c40);
            c41 = Fma.MultiplyAdd(x, b1, c41);
            x = Vector256.Create(a5[off]);
            c50 = Fma.MultiplyAdd(x, b0, c50);
            c51 = Fma.MultiplyAdd(x, b1, c51);
            off += acs;
            b += bs;
        }

        var av = Vector256.Create(alpha);
        var bv = Vector256.Create(beta);
        var useBeta = beta != 0;
        Store2<TMask>(c, c00, c01, av, bv, useBeta, mask);
        if (mr > 1) Store2<TMask>(c + ldc, c10, c11, av, bv, useBeta, mask);
        if (mr > 2) Store2<TMask>(c + 2 * ldc, c20, c21, av, bv, useBeta, mask);
        if (mr > 3) Store2<TMask>(c + 3 * ldc, c30, c31, av, bv, useBeta, mask);
        if (mr > 4) Store2<TMask>(c + 4 * ldc, c40, c41, av, bv, useBeta, mask);
        if (mr > 5) Store2<TMask>(c + 5 * ldc, c50, c51, av, bv, useBeta, mask);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile1<TMask>(int kc, float* a, nint ars, nint acs, float* b, nint bs, float* c, nint ldc,
        int mr, int nr, float alpha, float beta)
        where TMask : struct, IGemmMaskMode
    {
        float* a0 = a, a1 = mr > 1 ? a + ars : a, a2 = mr > 2 ? a + 2 * ars : a;
        float* a3 = mr > 3 ? a + 3 * ars : a, a4 = mr > 4 ? a + 4 * ars : a, a5 = mr > 5 ? a + 5 * ars : a;
        var mask = TMask.Enabled ? Mask(nr) : default;

        Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default;
        nint off = 0;
        for (var p = 0; p < kc; p++)
        {
            var b0 = TMask.Enabled ? Avx.MaskLoad(b, mask) : Vector256.Load(b);
            c0 = Fma.MultiplyAdd(Vector256.Create(a0[off]), b0, c0);
            c1 = Fma.MultiplyAdd(Vector256.Create(a1[off]), b0, c1);
            c2 = Fma.MultiplyAdd(Vector256.Create(a2[off]), b0, c2);
            c3 = Fma.MultiplyAdd(Vector256.Create(a3[off]), b0, c3);
            c4 = Fma.MultiplyAdd(Vector256.Create(a4[off]), b0, c4);
            c5 = Fma.MultiplyAdd(Vector256.Create(a5[off]), b0, c5);
            off += acs;
            b += bs;
        }

        var av = Vector256.Create(alpha);
        var bv = Vector256.Create(beta);
        var useBeta = beta != 0;
        Store1<TMask>(c, c0, av, bv, useBeta, mask);
        if (mr > 1) Store1<TMask>(c + ldc, c1, av, bv, useBeta, mask);
        if (mr > 2) Store1<TMask>(c + 2 * ldc, c2, av, bv, useBeta, mask);
        if (mr > 3) Store1<TMask>(c + 3 * ldc, c3, av, bv, useBeta, mask);
        if (mr > 4) Store1<TMask>(c + 4 * ldc, c4, av, bv, useBeta, mask);
        if (mr > 5) Store1<TMask>(c + 5 * ldc, c5, av, bv, useBeta, mask);
    }

    /// <summary>
    /// 12 rows × up to 8 columns: twelve accumulators against the six of <see cref="Tile1{TMask}"/>. Rows are reached
    /// from three base pointers plus 0, 1, 2, 3 row strides to stay within the integer registers.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Narrow<TMask>(int kc, float* a, nint ars, nint acs, float* b, nint bs, float* c, nint ldc,
        int nr, float alpha, float beta)
        where TMask : struct, IGemmMaskMode
    {
        float* a0 = a, a4 = a + 4 * ars, a8 = a + 8 * ars;
        nint s1 = ars, s2 = 2 * ars, s3 = 3 * ars;
        var mask = TMask.Enabled ? Mask(nr) : default;

        Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default;
        Vector256<float> c6 = default, c7 = default, c8 = default, c9 = default, c10 = default, c11 = default;
        for (var p = 0; p < kc; p++)
        {
            var b0 = TMask.Enabled ? Avx.MaskLoad(b, mask) : Vector256.Load(b);
            c0 = Fma.MultiplyAdd(Vector256.Create(a0[0]), b0, c0);
            c1 = Fma.MultiplyAdd(Vector256.Create(a0[s1]), b0, c1);
            c2 = Fma.MultiplyAdd(Vector256.Create(a0[s2]), b0, c2);
            c3 = Fma.MultiplyAdd(Vector256.Create(a0[s3]), b0, c3);
            c4 = Fma.MultiplyAdd(Vector256.Create(a4[0]), b0, c4);
            c5 = Fma.MultiplyAdd(Vector256.Create(a4[s1]), b0, c5);
            c6 = Fma.MultiplyAdd(Vector256.Create(a4[s2]), b0, c6);
            c7 = Fma.MultiplyAdd(Vector256.Create(a4[s3]), b0, c7);
            c8 = Fma.MultiplyAdd(Vector256.Create(a8[0]), b0, c8);
            c9 = Fma.MultiplyAdd(Vector256.Create(a8[s1]), b0, c9);
            c10 = Fma.MultiplyAdd(Vector256.Create(a8[s2]), b0, c10);
            c11 = Fma.MultiplyAdd(Vector256.Create(a8[s3]), b0, c11);
            a0 += acs;
            a4 += acs;
            a8 += acs;
            b += bs;
        }

        var av = Vector256.Create(alpha);
        var bv = Vector256.Create(beta);
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
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store2<TMask>(float* c, Vector256<float> acc0, Vector256<float> acc1, Vector256<float> alpha,
        Vector256<float> beta, bool useBeta, Vector256<float> mask)
        where TMask : struct, IGemmMaskMode
    {
        var r0 = acc0 * alpha;
        var r1 = acc1 * alpha;
        if (useBeta)
        {
            r0 = Fma.MultiplyAdd(Vector256.Load(c), beta, r0);
            r1 = Fma.MultiplyAdd(TMask.Enabled ? Avx.MaskLoad(c + 8, mask) : Vector256.Load(c + 8), beta, r1);
        }

        r0.Store(c);
        if (TMask.Enabled)
        {
            Avx.MaskStore(c + 8, mask, r1);
        }
        else
        {
            r1.Store(c + 8);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store1<TMask>(float* c, Vector256<float> acc, Vector256<float> alpha, Vector256<float> beta,
        bool useBeta, Vector256<float> mask)
        where TMask : struct, IGemmMaskMode
    {
        var r = acc * alpha;
        if (useBeta)
        {
            r = Fma.MultiplyAdd(TMask.Enabled ? Avx.MaskLoad(c, mask) : Vector256.Load(c), beta, r);
        }

        if (TMask.Enabled)
        {
            Avx.MaskStore(c, mask, r);
        }
        else
        {
            r.Store(c);
        }
    }
}
