using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Acp.Engine.Kernels;

/// <summary>
/// Portable 128-bit micro-kernel, 6×8 (SSE on x64 without AVX2, AdvSimd on Arm64): twelve accumulators, two B vectors
/// and one broadcast fit the 16 xmm registers of SSE. Vector128 has no portable masked load, so a ragged right edge
/// is copied into a zero-padded panel and computed into a scratch tile first.
/// </summary>
internal readonly unsafe struct GemmKernel128 : IGemmKernel
{
    public static int Mr => 6;

    public static int Nr => 8;

    public static int NarrowMr => 0;

    public static void NarrowTile(int kc, float* a, nint ars, nint acs, float* b, nint bs, float* c, nint ldc,
        int nr, float alpha, float beta) => throw new NotSupportedException();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Tile(int kc, float* a, nint ars, nint acs, float* b, nint bs, float* c, nint ldc,
        int mr, int nr, float alpha, float beta)
    {
        if (nr == 8)
        {
            Full(kc, a, ars, acs, b, bs, c, ldc, mr, alpha, beta);
        }
        else
        {
            Edge(kc, a, ars, acs, b, bs, c, ldc, mr, nr, alpha, beta);
        }
    }

    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Edge(int kc, float* a, nint ars, nint acs, float* b, nint bs, float* c, nint ldc,
        int mr, int nr, float alpha, float beta)
    {
        // kc ≤ GemmManaged.KcMax keeps this within 8 KiB of stack.
        var panel = stackalloc float[kc * 8];
        for (var p = 0; p < kc; p++)
        {
            var src = b + p * bs;
            var dst = panel + p * 8;
            for (var j = 0; j < 8; j++)
            {
                dst[j] = j < nr ? src[j] : 0f;
            }
        }

        var tile = stackalloc float[6 * 8];
        Full(kc, a, ars, acs, panel, 8, tile, 8, mr, alpha, 0f);
        for (var r = 0; r < mr; r++)
        {
            for (var j = 0; j < nr; j++)
            {
                ref var dst = ref c[r * ldc + j];
                dst = beta == 0 ? tile[r * 8 + j] : tile[r * 8 + j] + beta * dst;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Full(int kc, float* a, nint ars, nint acs, float* b, nint bs, float* c, nint ldc,
        int mr, float alpha, float beta)
    {
        // Rows past mr alias row 0: they compute garbage that is never stored, but never read outside A.
        float* a0 = a, a1 = mr > 1 ? a + ars : a, a2 = mr > 2 ? a + 2 * ars : a;
        float* a3 = mr > 3 ? a + 3 * ars : a, a4 = mr > 4 ? a + 4 * ars : a, a5 = mr > 5 ? a + 5 * ars : a;

        Vector128<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector128<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        nint off = 0;
        for (var p = 0; p < kc; p++)
        {
            var b0 = Vector128.Load(b);
            var b1 = Vector128.Load(b + 4);
            var x = Vector128.Create(a0[off]);
            c00 = Vector128.MultiplyAddEstimate(x, b0, c00);
            c01 = Vector128.MultiplyAddEstimate(x, b1, c01);
            x = Vector128.Create(a1[off]);
            c10 = Vector128.MultiplyAddEstimate(x, b0, c10);
            c11 = Vector128.MultiplyAddEstimate(x, b1, c11);
            x = Vector128.Create(a2[off]);
            c20 = Vector128.MultiplyAddEstimate(x, b0, c20);
            c21 = Vector128.MultiplyAddEstimate(x, b1, c21);
            x = Vector128.Create(a3[off]);
            c30 = Vector128.MultiplyAddEstimate(x, b0, c30);
            c31 = Vector128.MultiplyAddEstimate(x, b1, c31);
            x = Vector128.Create(a4[off]);
            c40 = Vector128.MultiplyAddEstimate(x, b0, c40);
            c41 = Vector128.MultiplyAddEstimate(x, b1, c41);
            x = Vector128.Create(a5[off]);
            c50 = Vector128.MultiplyAddEstimate(x, b0, c50);
            c51 = Vector128.MultiplyAddEstimate(x, b1, c51);
            off += acs;
            b += bs;
        }

        var av = Vector128.Create(alpha);
        var bv = Vector128.Create(beta);
        var useBeta = beta != 0;
        Store(c, c00, c01, av, bv, useBeta);
        if (mr > 1) Store(c + ldc, c10, c11, av, bv, useBeta);
        if (mr > 2) Store(c + 2 * ldc, c20, c21, av, bv, useBeta);
        if (mr > 3) Store(c + 3 * ldc, c30, c31, av, bv, useBeta);
        if (mr > 4) Store(c + 4 * ldc, c40, c41, av, bv, useBeta);
        if (mr > 5) Store(c + 5 * ldc, c50, c51, av, bv, useBeta);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* c, Vector128<float> acc0, Vector128<float> acc1, Vector128<float> alpha,
        Vector128<float> beta, bool useBeta)
    {
        var r0 = acc0 * alpha;
        var r1 = acc1 * alpha;
        if (useBeta)
        {
            r0 = Vector128.MultiplyAddEstimate(Vector128.Load(c), beta, r0);
            r1 = Vector128.MultiplyAddEstimate(Vector128.Load(c + 4), beta, r1);
        }

        r0.Store(c);
        r1.Store(c + 4);
    }
}

/// <summary>
/// Scalar micro-kernel, 4×4, for CPUs with no usable SIMD (or none the runtime accelerates). Sixteen scalar
/// accumulators still let the CPU overlap the multiply-adds of a tile.
/// </summary>
internal readonly unsafe struct GemmKernelScalar : IGemmKernel
{
    public static int Mr => 4;

    public static int Nr => 4;

    public static int NarrowMr => 0;

    public static void NarrowTile(int kc, float* a, nint ars, nint acs, float* b, nint bs, float* c, nint ldc,
        int nr, float alpha, float beta) => throw new NotSupportedException();

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tile(int kc, float* a, nint ars, nint acs, float* b, nint bs, float* c, nint ldc,
        int mr, int nr, float alpha, float beta)
    {
        if (mr == 4 && nr == 4)
        {
            Full(kc, a, ars, acs, b, bs, c, ldc, alpha, beta);
            return;
        }

        for (var r = 0; r < mr; r++)
        {
            for (var j = 0; j < nr; j++)
            {
                var sum = 0f;
                for (var p = 0; p < kc; p++)
                {
                    sum += a[r * ars + p * acs] * b[p * bs + j];
                }

                ref var dst = ref c[r * ldc + j];
                dst = beta == 0 ? alpha * sum : alpha * sum + beta * dst;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Full(int kc, float* a, nint ars, nint acs, float* b, nint bs, float* c, nint ldc,
        float alpha, float beta)
    {
        float* a0 = a, a1 = a + ars, a2 = a + 2 * ars, a3 = a + 3 * ars;
        float c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
        float c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
        nint off = 0;
        for (var p = 0; p < kc; p++)
        {
            float b0 = b[0], b1 = b[1], b2 = b[2], b3 = b[3];
            var x = a0[off];
            c00 += x * b0; c01 += x * b1; c02 += x * b2; c03 += x * b3;
            x = a1[off];
            c10 += x * b0; c11 += x * b1; c12 += x * b2; c13 += x * b3;
            x = a2[off];
            c20 += x * b0; c21 += x * b1; c22 += x * b2; c23 += x * b3;
            x = a3[off];
            c30 += x * b0; c31 += x * b1; c32 += x * b2; c33 += x * b3;
            off += acs;
            b += bs;
        }

        Row(c, c00, c01, c02, c03, alpha, beta);
        Row(c + ldc, c10, c11, c12, c13, alpha, beta);
        Row(c + 2 * ldc, c20, c21, c22, c23, alpha, beta);
        Row(c + 3 * ldc, c30, c31, c32, c33, alpha, beta);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row(float* c, float s0, float s1, float s2, float s3, float alpha, float beta)
    {
        if (beta == 0)
        {
            c[0] = alpha * s0;
            c[1] = alpha * s1;
            c[2] = alpha * s2;
            c[3] = alpha * s3;
        }
        else
        {
            c[0] = alpha * s0 + beta * c[0];
            c[1] = alpha * s1 + beta * c[1];
            c[2] = alpha * s2 + beta * c[2];
            c[3] = alpha * s3 + beta * c[3];
        }
    }
}
