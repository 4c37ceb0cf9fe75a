using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Acp.Engine.Kernels;

// Register tiles of ConvByChannel, fully unrolled: the JIT keeps an accumulator in its own zmm register only when it
// is a separate local, so there is one method per shape. The bodies were generated mechanically and follow one
// pattern; keep it when editing. Forward tiles: (16-channel vectors × positions) = 2×14, 2×7, 1×28, 1×14, 1×7
// (the 14-position tiles read their second 7 positions from a second pointer, so they can cover two short rows).
// Filter tiles: (vectors × input channels × 3 taps) = 4×2×3, 2×4×3, 1×8×3.
internal static unsafe partial class ConvByChannel
{
    /// <summary>
    /// Forward tile: 32 output channels × 14 positions, the first 7 at src and the last 7 at src2 (the rest of one
    /// output row, or the next row). tile[p·32 + o] = Σ_ci Σ_t w[(ci·taps + t)·ld + o] · s_p[ci·plane + offs[t]],
    /// s_p = src + p·step for p &lt; 7, src2 + (p − 7)·step otherwise.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Forward2x14<TStep>(float* src, float* src2, int plane, int* offs, int taps, int channels, float* w, int ld, float* tile)
        where TStep : struct, IConvStep
    {
        Vector512<float> a0_0 = default; Vector512<float> a0_1 = default; Vector512<float> a0_2 = default; Vector512<float> a0_3 = default; Vector512<float> a0_4 = default; Vector512<float> a0_5 = default; Vector512<float> a0_6 = default; Vector512<float> a0_7 = default; Vector512<float> a0_8 = default; Vector512<float> a0_9 = default; Vector512<float> a0_10 = default; Vector512<float> a0_11 = default; Vector512<float> a0_12 = default; Vector512<float> a0_13 = default;
        Vector512<float> a1_0 = default; Vector512<float> a1_1 = default; Vector512<float> a1_2 = default; Vector512<float> a1_3 = default; Vector512<float> a1_4 = default; Vector512<float> a1_5 = default; Vector512<float> a1_6 = default; Vector512<float> a1_7 = default; Vector512<float> a1_8 = default; Vector512<float> a1_9 = default; Vector512<float> a1_10 = default; Vector512<float> a1_11 = default; Vector512<float> a1_12 = default; Vector512<float> a1_13 = default;
        for (var ci = 0; ci < channels; ci++, src += plane, src2 += plane)
        {
            for (var t = 0; t < taps; t++, w += ld)
            {
                var s = src + offs[t];
                var s2 = src2 + offs[t];
                var w0 = Vector512.Load(w + 0);
                var w1 = Vector512.Load(w + 16);
                var b0 = Vector512.Create(s[0]);
                a0_0 = Vector512.FusedMultiplyAdd(w0, b0, a0_0); a1_0 = Vector512.FusedMultiplyAdd(w1, b0, a1_0);
                var b1 = Vector512.Create(s[1 * TStep.Value]);
                a0_1 = Vector512.FusedMultiplyAdd(w0, b1, a0_1); a1_1 = Vector512.FusedMultiplyAdd(w1, b1, a1_1);
                var b2 = Vector512.Create(s[2 * TStep.Value]);
                a0_2 = Vector512.FusedMultiplyAdd(w0, b2, a0_2); a1_2 = Vector512.FusedMultiplyAdd(w1, b2, a1_2);
                var b3 = Vector512.Create(s[3 * TStep.Value]);
                a0_3 = Vector512.FusedMultiplyAdd(w0, b3, a0_3); a1_3 = Vector512.FusedMultiplyAdd(w1, b3, a1_3);
                var b4 = Vector512.Create(s[4 * TStep.Value]);
                a0_4 = Vector512.FusedMultiplyAdd(w0, b4, a0_4); a1_4 = Vector512.FusedMultiplyAdd(w1, b4, a1_4);
                var b5 = Vector512.Create(s[5 * TStep.Value]);
                a0_5 = Vector512.FusedMultiplyAdd(w0, b5, a0_5); a1_5 = Vector512.FusedMultiplyAdd(w1, b5, a1_5);
                var b6 = Vector512.Create(s[6 * TStep.Value]);
                a0_6 = Vector512.FusedMultiplyAdd(w0, b6, a0_6); a1_6 = Vector512.FusedMultiplyAdd(w1, b6, a1_6);
                var b7 = Vector512.Create(s2[0 * TStep.Value]);
                a0_7 = Vector512.FusedMultiplyAdd(w0, b7, a0_7); a1_7 = Vector512.FusedMultiplyAdd(w1, b7, a1_7);
                var b8 = Vector512.Create(s2[1 * TStep.Value]);
                a0_8 = Vector512.FusedMultiplyAdd(w0, b8, a0_8); a1_8 = Vector512.FusedMultiplyAdd(w1, b8, a1_8);
                var b9 = Vector512.Create(s2[2 * TStep.Value]);
                a0_9 = Vector512.FusedMultiplyAdd(w0, b9, a0_9); a1_9 = Vector512.FusedMultiplyAdd(w1, b9, a1_9);
                var b10 = Vector512.Create(s2[3 * TStep.Value]);
                a0_10 = Vector512.FusedMultiplyAdd(w0, b10, a0_10); a1_10 = Vector512.FusedMultiplyAdd(w1, b10, a1_10);
                var b11 = Vector512.Create(s2[4 * TStep.Value]);
                a0_11 = Vector512.FusedMultiplyAdd(w0, b11, a0_11); a1_11 = Vector512.FusedMultiplyAdd(w1, b11, a1_11);
                var b12 = Vector512.Create(s2[5 * TStep.Value]);
                a0_12 = Vector512.FusedMultiplyAdd(w0, b12, a0_12); a1_12 = Vector512.FusedMultiplyAdd(w1, b12, a1_12);
                var b13 = Vector512.Create(s2[6 * TStep.Value]);
                a0_13 = Vector512.FusedMultiplyAdd(w0, b13, a0_13); a1_13 = Vector512.FusedMultiplyAdd(w1, b13, a1_13);
            }
        }
        a0_0.Store(tile + 0); a1_0.Store(tile + 16);
        a0_1.Store(tile + 32); a1_1.Store(tile + 48);
        a0_2.Store(tile + 64); a1_2.Store(tile + 80);
        a0_3.Store(tile + 96); a1_3.Store(tile + 112);
        a0_4.Store(tile + 128); a1_4.Store(tile + 144);
        a0_5.Store(tile + 160); a1_5.Store(tile + 176);
        a0_6.Store(tile + 192); a1_6.Store(tile + 208);
        a0_7.Store(tile + 224); a1_7.Store(tile + 240);
        a0_8.Store(tile + 256); a1_8.Store(tile + 272);
        a0_9.Store(tile + 288); a1_9.Store(tile + 304);
        a0_10.Store(tile + 320); a1_10.Store(tile + 336);
        a0_11.Store(tile + 352); a1_11.Store(tile + 368);
        a0_12.Store(tile + 384); a1_12.Store(tile + 400);
        a0_13.Store(tile + 416); a1_13.Store(tile + 432);
    }

    /// <summary>
    /// Forward tile: 32 output channels × 7 positions of one output row. tile[p·32 + o] = Σ_ci Σ_t
    /// w[(ci·taps + t)·ld + o] · src[ci·plane + offs[t] + p·step].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Forward2x7<TStep>(float* src, int plane, int* offs, int taps, int channels, float* w, int ld, float* tile)
        where TStep : struct, IConvStep
    {
        Vector512<float> a0_0 = default; Vector512<float> a0_1 = default; Vector512<float> a0_2 = default; Vector512<float> a0_3 = default; Vector512<float> a0_4 = default; Vector512<float> a0_5 = default; Vector512<float> a0_6 = default;
        Vector512<float> a1_0 = default; Vector512<float> a1_1 = default; Vector512<float> a1_2 = default; Vector512<float> a1_3 = default; Vector512<float> a1_4 = default; Vector512<float> a1_5 = default; Vector512<float> a1_6 = default;
        for (var ci = 0; ci < channels; ci++, src += plane)
        {
            for (var t = 0; t < taps; t++, w += ld)
            {
                var s = src + offs[t];
                var w0 = Vector512.Load(w + 0);
                var w1 = Vector512.Load(w + 16);
                var b0 = Vector512.Create(s[0]);
                a0_0 = Vector512.FusedMultiplyAdd(w0, b0, a0_0); a1_0 = Vector512.FusedMultiplyAdd(w1, b0, a1_0);
                var b1 = Vector512.Create(s[1 * TStep.Value]);
                a0_1 = Vector512.FusedMultiplyAdd(w0, b1, a0_1); a1_1 = Vector512.FusedMultiplyAdd(w1, b1, a1_1);
                var b2 = Vector512.Create(s[2 * TStep.Value]);
                a0_2 = Vector512.FusedMultiplyAdd(w0, b2, a0_2); a1_2 = Vector512.FusedMultiplyAdd(w1, b2, a1_2);
                var b3 = Vector512.Create(s[3 * TStep.Value]);
                a0_3 = Vector512.FusedMultiplyAdd(w0, b3, a0_3); a1_3 = Vector512.FusedMultiplyAdd(w1, b3, a1_3);
                var b4 = Vector512.Create(s[4 * TStep.Value]);
                a0_4 = Vector512.FusedMultiplyAdd(w0, b4, a0_4); a1_4 = Vector512.FusedMultiplyAdd(w1, b4, a1_4);
                var b5 = Vector512.Create(s[5 * TStep.Value]);
                a0_5 = Vector512.FusedMultiplyAdd(w0, b5, a0_5); a1_5 = Vector512.FusedMultiplyAdd(w1, b5, a1_5);
                var b6 = Vector512.Create(s[6 * TStep.Value]);
                a0_6 = Vector512.FusedMultiplyAdd(w0, b6, a0_6); a1_6 = Vector512.FusedMultiplyAdd(w1, b6, a1_6);
            }
        }
        a0_0.Store(tile + 0); a1_0.Store(tile + 16);
        a0_1.Store(tile + 32); a1_1.Store(tile + 48);
        a0_2.Store(tile + 64); a1_2.Store(tile + 80);
        a0_3.Store(tile + 96); a1_3.Store(tile + 112);
        a0_4.Store(tile + 128); a1_4.Store(tile + 144);
        a0_5.Store(tile + 160); a1_5.Store(tile + 176);
        a0_6.Store(tile + 192); a1_6.Store(tile + 208);
    }

    /// <summary>
    /// Forward tile: 16 output channels × 28 positions of one output row. tile[p·16 + o] = Σ_ci Σ_t
    /// w[(ci·taps + t)·ld + o] · src[ci·plane + offs[t] + p·step].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Forward1x28<TStep>(float* src, int plane, int* offs, int taps, int channels, float* w, int ld, float* tile)
        where TStep : struct, IConvStep
    {
        Vector512<float> a0_0 = default; Vector512<float> a0_1 = default; Vector512<float> a0_2 = default; Vector512<float> a0_3 = default; Vector512<float> a0_4 = default; Vector512<float> a0_5 = default; Vector512<float> a0_6 = default; Vector512<float> a0_7 = default; Vector512<float> a0_8 = default; Vector512<float> a0_9 = default; Vector512<float> a0_10 = default; Vector512<float> a0_11 = default; Vector512<float> a0_12 = default; Vector512<float> a0_13 = default; Vector512<float> a0_14 = default; Vector512<float> a0_15 = default; Vector512<float> a0_16 = default; Vector512<float> a0_17 = default; Vector512<float> a0_18 = default; Vector512<float> a0_19 = default; Vector512<float> a0_20 = default; Vector512<float> a0_21 = default; Vector512<float> a0_22 = default; Vector512<float> a0_23 = default; Vector512<float> a0_24 = default; Vector512<float> a0_25 = default; Vector512<float> a0_26 = default; Vector512<float> a0_27 = default;
        for (var ci = 0; ci < channels; ci++, src += plane)
        {
            for (var t = 0; t < taps; t++, w += ld)
            {
                var s = src + offs[t];
                var w0 = Vector512.Load(w + 0);
                var b0 = Vector512.Create(s[0]);
                a0_0 = Vector512.FusedMultiplyAdd(w0, b0, a0_0);
                var b1 = Vector512.Create(s[1 * TStep.Value]);
                a0_1 = Vector512.FusedMultiplyAdd(w0, b1, a0_1);
                var b2 = Vector512.Create(s[2 * TStep.Value]);
                a0_2 = Vector512.FusedMultiplyAdd(w0, b2, a0_2);
                var b3 = Vector512.Create(s[3 * TStep.Value]);
                a0_3 = Vector512.FusedMultiplyAdd(w0, b3, a0_3);
                var b4 = Vector512.Create(s[4 * TStep.Value]);
                a0_4 = Vector512.FusedMultiplyAdd(w0, b4, a0_4);
                var b5 = Vector512.Create(s[5 * TStep.Value]);
                a0_5 = Vector512.FusedMultiplyAdd(w0, b5, a0_5);
                var b6 = Vector512.Create(s[6 * TStep.Value]);
                a0_6 = Vector512.FusedMultiplyAdd(w0, b6, a0_6);
                var b7 = Vector512.Create(s[7 * TStep.Value]);
                a0_7 = Vector512.FusedMultiplyAdd(w0, b7, a0_7);
                var b8 = Vector512.Create(s[8 * TStep.Value]);
                a0_8 = Vector512.FusedMultiplyAdd(w0, b8, a0_8);
                var b9 = Vector512.Create(s[9 * TStep.Value]);
                a0_9 = Vector512.FusedMultiplyAdd(w0, b9, a0_9);
                var b10 = Vector512.Create(s[10 * TStep.Value]);
                a0_10 = Vector512.FusedMultiplyAdd(w0, b10, a0_10);
                var b11 = Vector512.Create(s[11 * TStep.Value]);
                a0_11 = Vector512.FusedMultiplyAdd(w0, b11, a0_11);
                var b12 = Vector512.Create(s[12 * TStep.Value]);
                a0_12 = Vector512.FusedMultiplyAdd(w0, b12, a0_12);
                var b13 = Vector512.Create(s[13 * TStep.Value]);
                a0_13 = Vector512.FusedMultiplyAdd(w0, b13, a0_13);
                var b14 = Vector512.Create(s[14 * TStep.Value]);
                a0_14 = Vector512.FusedMultiplyAdd(w0, b14, a0_14);
                var b15 = Vector512.Create(s[15 * TStep.Value]);
                a0_15 = Vector512.FusedMultiplyAdd(w0, b15, a0_15);
                var b16 = Vector512.Create(s[16 * TStep.Value]);
                a0_16 = Vector512.FusedMultiplyAdd(w0, b16, a0_16);
                var b17 = Vector512.Create(s[17 * TStep.Value]);
                a0_17 = Vector512.FusedMultiplyAdd(w0, b17, a0_17);
                var b18 = Vector512.Create(s[18 * TStep.Value]);
                a0_18 = Vector512.FusedMultiplyAdd(w0, b18, a0_18);
                var b19 = Vector512.Create(s[19 * TStep.Value]);
                a0_19 = Vector512.FusedMultiplyAdd(w0, b19, a0_19);
                var b20 = Vector512.Create(s[20 * TStep.Value]);
                a0_20 = Vector512.FusedMultiplyAdd(w0, b20, a0_20);
                var b21 = Vector512.Create(s[21 * TStep.Value]);
                a0_21 = Vector512.FusedMultiplyAdd(w0, b21, a0_21);
                var b22 = Vector512.Create(s[22 * TStep.Value]);
                a0_22 = Vector512.FusedMultiplyAdd(w0, b22, a0_22);
                var b23 = Vector512.Create(s[23 * TStep.Value]);
                a0_23 = Vector512.FusedMultiplyAdd(w0, b23, a0_23);
                var b24 = Vector512.Create(s[24 * TStep.Value]);
                a0_24 = Vector512.FusedMultiplyAdd(w0, b24, a0_24);
                var b25 = Vector512.Create(s[25 * TStep.Value]);
                a0_25 = Vector512.FusedMultiplyAdd(w0, b25, a0_25);
                var b26 = Vector512.Create(s[26 * TStep.Value]);
                a0_26 = Vector512.FusedMultiplyAdd(w0, b26, a0_26);
                var b27 = Vector512.Create(s[27 * TStep.Value]);
                a0_27 = Vector512.FusedMultiplyAdd(w0, b27, a0_27);
            }
        }
        a0_0.Store(tile + 0);
        a0_1.Store(tile + 16);
        a0_2.Store(tile + 32);
        a0_3.Store(tile + 48);
        a0_4.Store(tile + 64);
        a0_5.Store(tile + 80);
        a0_6.Store(tile + 96);
        a0_7.Store(tile + 112);
        a0_8.Store(tile + 128);
        a0_9.Store(tile + 144);
        a0_10.Store(tile + 160);
        a0_11.Store(tile + 176);
        a0_12.Store(tile + 192);
        a0_13.Store(tile + 208);
        a0_14.Store(tile + 224);
        a0_15.Store(tile + 240);
        a0_16.Store(tile + 256);
        a0_17.Store(tile + 272);
        a0_18.Store(tile + 288);
        a0_19.Store(tile + 304);
        a0_20.Store(tile + 320);
        a0_21.Store(tile + 336);
        a0_22.Store(tile + 352);
        a0_23.Store(tile + 368);
        a0_24.Store(tile + 384);
        a0_25.Store(tile + 400);
        a0_26.Store(tile + 416);
        a0_27.Store(tile + 432);
    }

    /// <summary>
    /// Forward tile: 16 output channels × 14 positions, the first 7 at src and the last 7 at src2 (the rest of one
    /// output row, or the next row). tile[p·16 + o] = Σ_ci Σ_t w[(ci·taps + t)·ld + o] · s_p[ci·plane + offs[t]],
    /// s_p = src + p·step for p &lt; 7, src2 + (p − 7)·step otherwise.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Forward1x14<TStep>(float* src, float* src2, int plane, int* offs, int taps, int channels, float* w, int ld, float* tile)
        where TStep : struct, IConvStep
    {
        Vector512<float> a0_0 = default; Vector512<float> a0_1 = default; Vector512<float> a0_2 = default; Vector512<float> a0_3 = default; Vector512<float> a0_4 = default; Vector512<float> a0_5 = default; Vector512<float> a0_6 = default; Vector512<float> a0_7 = default; Vector512<float> a0_8 = default; Vector512<float> a0_9 = default; Vector512<float> a0_10 = default; Vector512<float> a0_11 = default; Vector512<float> a0_12 = default; Vector512<float> a0_13 = default;
        for (var ci = 0; ci < channels; ci++, src += plane, src2 += plane)
        {
            for (var t = 0; t < taps; t++, w += ld)
            {
                var s = src + offs[t];
                var s2 = src2 + offs[t];
                var w0 = Vector512.Load(w + 0);
                var b0 = Vector512.Create(s[0]);
                a0_0 = Vector512.FusedMultiplyAdd(w0, b0, a0_0);
                var b1 = Vector512.Create(s[1 * TStep.Value]);
                a0_1 = Vector512.FusedMultiplyAdd(w0, b1, a0_1);
                var b2 = Vector512.Create(s[2 * TStep.Value]);
                a0_2 = Vector512.FusedMultiplyAdd(w0, b2, a0_2);
                var b3 = Vector512.Create(s[3 * TStep.Value]);
                a0_3 = Vector512.FusedMultiplyAdd(w0, b3, a0_3);
                var b4 = Vector512.Create(s[4 * TStep.Value]);
                a0_4 = Vector512.FusedMultiplyAdd(w0, b4, a0_4);
                var b5 = Vector512.Create(s[5 * TStep.Value]);
                a0_5 = Vector512.FusedMultiplyAdd(w0, b5, a0_5);
                var b6 = Vector512.Create(s[6 * TStep.Value]);
                a0_6 = Vector512.FusedMultiplyAdd(w0, b6, a0_6);
                var b7 = Vector512.Create(s2[0 * TStep.Value]);
                a0_7 = Vector512.FusedMultiplyAdd(w0, b7, a0_7);
                var b8 = Vector512.Create(s2[1 * TStep.Value]);
                a0_8 = Vector512.FusedMultiplyAdd(w0, b8, a0_8);
                var b9 = Vector512.Create(s2[2 * TStep.Value]);
                a0_9 = Vector512.FusedMultiplyAdd(w0, b9, a0_9);
                var b10 = Vector512.Create(s2[3 * TStep.Value]);
                a0_10 = Vector512.FusedMultiplyAdd(w0, b10, a0_10);
                var b11 = Vector512.Create(s2[4 * TStep.Value]);
                a0_11 = Vector512.FusedMultiplyAdd(w0, b11, a0_11);
                var b12 = Vector512.Create(s2[5 * TStep.Value]);
                a0_12 = Vector512.FusedMultiplyAdd(w0, b12, a0_12);
                var b13 = Vector512.Create(s2[6 * TStep.Value]);
                a0_13 = Vector512.FusedMultiplyAdd(w0, b13, a0_13);
            }
        }
        a0_0.Store(tile + 0);
        a0_1.Store(tile + 16);
        a0_2.Store(tile + 32);
        a0_3.Store(tile + 48);
        a0_4.Store(tile + 64);
        a0_5.Store(tile + 80);
        a0_6.Store(tile + 96);
        a0_7.Store(tile + 112);
        a0_8.Store(tile + 128);
        a0_9.Store(tile + 144);
        a0_10.Store(tile + 160);
        a0_11.Store(tile + 176);
        a0_12.Store(tile + 192);
        a0_13.Store(tile + 208);
    }

    /// <summary>
    /// Forward tile: 16 output channels × 7 positions of one output row. tile[p·16 + o] = Σ_ci Σ_t
    /// w[(ci·taps + t)·ld + o] · src[ci·plane + offs[t] + p·step].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Forward1x7<TStep>(float* src, int plane, int* offs, int taps, int channels, float* w, int ld, float* tile)
        where TStep : struct, IConvStep
    {
        Vector512<float> a0_0 = default; Vector512<float> a0_1 = default; Vector512<float> a0_2 = default; Vector512<float> a0_3 = default; Vector512<float> a0_4 = default; Vector512<float> a0_5 = default; Vector512<float> a0_6 = default;
        for (var ci = 0; ci < channels; ci++, src += plane)
        {
            for (var t = 0; t < taps; t++, w += ld)
            {
                var s = src + offs[t];
                var w0 = Vector512.Load(w + 0);
                var b0 = Vector512.Create(s[0]);
                a0_0 = Vector512.FusedMultiplyAdd(w0, b0, a0_0);
                var b1 = Vector512.Create(s[1 * TStep.Value]);
                a0_1 = Vector512.FusedMultiplyAdd(w0, b1, a0_1);
                var b2 = Vector512.Create(s[2 * TStep.Value]);
                a0_2 = Vector512.FusedMultiplyAdd(w0, b2, a0_2);
                var b3 = Vector512.Create(s[3 * TStep.Value]);
                a0_3 = Vector512.FusedMultiplyAdd(w0, b3, a0_3);
                var b4 = Vector512.Create(s[4 * TStep.Value]);
                a0_4 = Vector512.FusedMultiplyAdd(w0, b4, a0_4);
                var b5 = Vector512.Create(s[5 * TStep.Value]);
                a0_5 = Vector512.FusedMultiplyAdd(w0, b5, a0_5);
                var b6 = Vector512.Create(s[6 * TStep.Value]);
                a0_6 = Vector512.FusedMultiplyAdd(w0, b6, a0_6);
            }
        }
        a0_0.Store(tile + 0);
        a0_1.Store(tile + 16);
        a0_2.Store(tile + 32);
        a0_3.Store(tile + 48);
        a0_4.Store(tile + 64);
        a0_5.Store(tile + 80);
        a0_6.Store(tile + 96);
    }

    /// <summary>
    /// Filter tile: 64 output channels × 2 input channels × 3 consecutive taps of one kernel row.
    /// acc[(k·3 + m)·64 + o] += Σ over rows r and columns q of dy[(r·width + q)·ld + o] ·
    /// x_k[rowOffsets[r] + q·step + m], x_k = x + k·channelStride; acc holds 24 vectors.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Filter4x2<TStep>(float* dy, int ld, float* x, int channelStride, int* rowOffsets, int rows, int width, float* acc)
        where TStep : struct, IConvStep
    {
        var a00_0 = Vector512.Load(acc + 0); var a00_1 = Vector512.Load(acc + 16); var a00_2 = Vector512.Load(acc + 32); var a00_3 = Vector512.Load(acc + 48);
        var a01_0 = Vector512.Load(acc + 64); var a01_1 = Vector512.Load(acc + 80); var a01_2 = Vector512.Load(acc + 96); var a01_3 = Vector512.Load(acc + 112);
        var a02_0 = Vector512.Load(acc + 128); var a02_1 = Vector512.Load(acc + 144); var a02_2 = Vector512.Load(acc + 160); var a02_3 = Vector512.Load(acc + 176);
        var a10_0 = Vector512.Load(acc + 192); var a10_1 = Vector512.Load(acc + 208); var a10_2 = Vector512.Load(acc + 224); var a10_3 = Vector512.Load(acc + 240);
        var a11_0 = Vector512.Load(acc + 256); var a11_1 = Vector512.Load(acc + 272); var a11_2 = Vector512.Load(acc + 288); var a11_3 = Vector512.Load(acc + 304);
        var a12_0 = Vector512.Load(acc + 320); var a12_1 = Vector512.Load(acc + 336); var a12_2 = Vector512.Load(acc + 352); var a12_3 = Vector512.Load(acc + 368);
        var x0 = x + 0L * channelStride;
        var x1 = x + 1L * channelStride;
        for (var r = 0; r < rows; r++)
        {
            var offset = rowOffsets[r];
            var p0 = x0 + offset;
            var p1 = x1 + offset;
            for (var q = 0; q < width; q++, dy += ld)
            {
                var d0 = Vector512.Load(dy + 0);
                var d1 = Vector512.Load(dy + 16);
                var d2 = Vector512.Load(dy + 32);
                var d3 = Vector512.Load(dy + 48);
                var at = q * TStep.Value;
                var b00 = Vector512.Create(p0[at + 0]);
                a00_0 = Vector512.FusedMultiplyAdd(d0, b00, a00_0); a00_1 = Vector512.FusedMultiplyAdd(d1, b00, a00_1); a00_2 = Vector512.FusedMultiplyAdd(d2, b00, a00_2); a00_3 = Vector512.FusedMultiplyAdd(d3, b00, a00_3);
                var b01 = Vector512.Create(p0[at + 1]);
                a01_0 = Vector512.FusedMultiplyAdd(d0, b01, a01_0); a01_1 = Vector512.FusedMultiplyAdd(d1, b01, a01_1); a01_2 = Vector512.FusedMultiplyAdd(d2, b01, a01_2); a01_3 = Vector512.FusedMultiplyAdd(d3, b01, a01_3);
                var b02 = Vector512.Create(p0[at + 2]);
                a02_0 = Vector512.FusedMultiplyAdd(d0, b02, a02_0); a02_1 = Vector512.FusedMultiplyAdd(d1, b02, a02_1); a02_2 = Vector512.FusedMultiplyAdd(d2, b02, a02_2); a02_3 = Vector512.FusedMultiplyAdd(d3, b02, a02_3);
                var b10 = Vector512.Create(p1[at + 0]);
                a10_0 = Vector512.FusedMultiplyAdd(d0, b10, a10_0); a10_1 = Vector512.FusedMultiplyAdd(d1, b10, a10_1); a10_2 = Vector512.FusedMultiplyAdd(d2, b10, a10_2); a10_3 = Vector512.FusedMultiplyAdd(d3, b10, a10_3);
                var b11 = Vector512.Create(p1[at + 1]);
                a11_0 = Vector512.FusedMultiplyAdd(d0, b11, a11_0); a11_1 = Vector512.FusedMultiplyAdd(d1, b11, a11_1); a11_2 = Vector512.FusedMultiplyAdd(d2, b11, a11_2); a11_3 = Vector512.FusedMultiplyAdd(d3, b11, a11_3);
                var b12 = Vector512.Create(p1[at + 2]);
                a12_0 = Vector512.FusedMultiplyAdd(d0, b12, a12_0); a12_1 = Vector512.FusedMultiplyAdd(d1, b12, a12_1); a12_2 = Vector512.FusedMultiplyAdd(d2, b12, a12_2); a12_3 = Vector512.FusedMultiplyAdd(d3, b12, a12_3);
            }
        }
        a00_0.Store(acc + 0); a00_1.Store(acc + 16); a00_2.Store(acc + 32); a00_3.Store(acc + 48);
        a01_0.Store(acc + 64); a01_1.Store(acc + 80); a01_2.Store(acc + 96); a01_3.Store(acc + 112);
        a02_0.Store(acc + 128); a02_1.Store(acc + 144); a02_2.Store(acc + 160); a02_3.Store(acc + 176);
        a10_0.Store(acc + 192); a10_1.Store(acc + 208); a10_2.Store(acc + 224); a10_3.Store(acc + 240);
        a11_0.Store(acc + 256); a11_1.Store(acc + 272); a11_2.Store(acc + 288); a11_3.Store(acc + 304);
        a12_0.Store(acc + 320); a12_1.Store(acc + 336); a12_2.Store(acc + 352); a12_3.Store(acc + 368);
    }

    /// <summary>
    /// Filter tile: 32 output channels × 4 input channels × 3 consecutive taps of one kernel row.
    /// acc[(k·3 + m)·32 + o] += Σ over rows r and columns q of dy[(r·width + q)·ld + o] ·
    /// x_k[rowOffsets[r] + q·step + m], x_k = x + k·channelStride; acc holds 24 vectors.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Filter2x4<TStep>(float* dy, int ld, float* x, int channelStride, int* rowOffsets, int rows, int width, float* acc)
        where TStep : struct, IConvStep
    {
        var a00_0 = Vector512.Load(acc + 0); var a00_1 = Vector512.Load(acc + 16);
        var a01_0 = Vector512.Load(acc + 32); var a01_1 = Vector512.Load(acc + 48);
        var a02_0 = Vector512.Load(acc + 64); var a02_1 = Vector512.Load(acc + 80);
        var a10_0 = Vector512.Load(acc + 96); var a10_1 = Vector512.Load(acc + 112);
        var a11_0 = Vector512.Load(acc + 128); var a11_1 = Vector512.Load(acc + 144);
        var a12_0 = Vector512.Load(acc + 160); var a12_1 = Vector512.Load(acc + 176);
        var a20_0 = Vector512.Load(acc + 192); var a20_1 = Vector512.Load(acc + 208);
        var a21_0 = Vector512.Load(acc + 224); var a21_1 = Vector512.Load(acc + 240);
        var a22_0 = Vector512.Load(acc + 256); var a22_1 = Vector512.Load(acc + 272);
        var a30_0 = Vector512.Load(acc + 288); var a30_1 = Vector512.Load(acc + 304);
        var a31_0 = Vector512.Load(acc + 320); var a31_1 = Vector512.Load(acc + 336);
        var a32_0 = Vector512.Load(acc + 352); var a32_1 = Vector512.Load(acc + 368);
        var x0 = x + 0L * channelStride;
        var x1 = x + 1L * channelStride;
        var x2 = x + 2L * channelStride;
        var x3 = x + 3L * channelStride;
        for (var r = 0; r < rows; r++)
        {
            var offset = rowOffsets[r];
            var p0 = x0 + offset;
            var p1 = x1 + offset;
            var p2 = x2 + offset;
            var p3 = x3 + offset;
            for (var q = 0; q < width; q++, dy += ld)
            {
                var d0 = Vector512.Load(dy + 0);
                var d1 = Vector512.Load(dy + 16);
                var at = q * TStep.Value;
                var b00 = Vector512.Create(p0[at + 0]);
                a00_0 = Vector512.FusedMultiplyAdd(d0, b00, a00_0); a00_1 = Vector512.FusedMultiplyAdd(d1, b00, a00_1);
                var b01 = Vector512.Create(p0[at + 1]);
                a01_0 = Vector512.FusedMultiplyAdd(d0, b01, a01_0); a01_1 = Vector512.FusedMultiplyAdd(d1, b01, a01_1);
                var b02 = Vector512.Create(p0[at + 2]);
                a02_0 = Vector512.FusedMultiplyAdd(d0, b02, a02_0); a02_1 = Vector512.FusedMultiplyAdd(d1, b02, a02_1);
                var b10 = Vector512.Create(p1[at + 0]);
                a10_0 = Vector512.FusedMultiplyAdd(d0, b10, a10_0); a10_1 = Vector512.FusedMultiplyAdd(d1, b10, a10_1);
                var b11 = Vector512.Create(p1[at + 1]);
                a11_0 = Vector512.FusedMultiplyAdd(d0, b11, a11_0); a11_1 = Vector512.FusedMultiplyAdd(d1, b11, a11_1);
                var b12 = Vector512.Create(p1[at + 2]);
                a12_0 = Vector512.FusedMultiplyAdd(d0, b12, a12_0); a12_1 = Vector512.FusedMultiplyAdd(d1, b12, a12_1);
                var b20 = Vector512.Create(p2[at + 0]);
                a20_0 = Vector512.FusedMultiplyAdd(d0, b20, a20_0); a20_1 = Vector512.FusedMultiplyAdd(d1, b20, a20_1);
                var b21 = Vector512.Create(p2[at + 1]);
                a21_0 = Vector512.FusedMultiplyAdd(d0, b21, a21_0); a21_1 = Vector512.FusedMultiplyAdd(d1, b21, a21_1);
                var b22 = Vector512.Create(p2[at + 2]);
                a22_0 = Vector512.FusedMultiplyAdd(d0, b22, a22_0); a22_1 = Vector512.FusedMultiplyAdd(d1, b22, a22_1);
                var b30 = Vector512.Create(p3[at + 0]);
                a30_0 = Vector512.FusedMultiplyAdd(d0, b30, a30_0); a30_1 = Vector512.FusedMultiplyAdd(d1, b30, a30_1);
                var b31 = Vector512.Create(p3[at + 1]);
                a31_0 = Vector512.FusedMultiplyAdd(d0, b31, a31_0); a31_1 = Vector512.FusedMultiplyAdd(d1, b31, a31_1);
                var b32 = Vector512.Create(p3[at + 2]);
                a32_0 = Vector512.FusedMultiplyAdd(d0, b32, a32_0); a32_1 = Vector512.FusedMultiplyAdd(d1, b32, a32_1);
            }
        }
        a00_0.Store(acc + 0); a00_1.Store(acc + 16);
        a01_0.Store(acc + 32); a01_1.Store(acc + 48);
        a02_0.Store(acc + 64); a02_1.Store(acc + 80);
        a10_0.Store(acc + 96); a10_1.Store(acc + 112);
        a11_0.Store(acc + 128); a11_1.Store(acc + 144);
        a12_0.Store(acc + 160); a12_1.Store(acc + 176);
        a20_0.Store(acc + 192); a20_1.Store(acc + 208);
        a21_0.Store(acc + 224); a21_1.Store(acc + 240);
        a22_0.Store(acc + 256); a22_1.Store(acc + 272);
        a30_0.Store(acc + 288); a30_1.Store(acc + 304);
        a31_0.Store(acc + 320); a31_1.Store(acc + 336);
        a32_0.Store(acc + 352); a32_1.Store(acc + 368);
    }

    /// <summary>
    /// Filter tile: 16 output channels × 8 input channels × 3 consecutive taps of one kernel row.
    /// acc[(k·3 + m)·16 + o] += Σ over rows r and columns q of dy[(r·width + q)·ld + o] ·
    /// x_k[rowOffsets[r] + q·step + m], x_k = x + k·channelStride; acc holds 24 vectors.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Filter1x8<TStep>(float* dy, int ld, float* x, int channelStride, int* rowOffsets, int rows, int width, float* acc)
        where TStep : struct, IConvStep
    {
        var a00_0 = Vector512.Load(acc + 0);
        var a01_0 = Vector512.Load(acc + 16);
        var a02_0 = Vector512.Load(acc + 32);
        var a10_0 = Vector512.Load(acc + 48);
        var a11_0 = Vector512.Load(acc + 64);
        var a12_0 = Vector512.Load(acc + 80);
        var a20_0 = Vector512.Load(acc + 96);
        var a21_0 = Vector512.Load(acc + 112);
        var a22_0 = Vector512.Load(acc + 128);
        var a30_0 = Vector512.Load(acc + 144);
        var a31_0 = Vector512.Load(acc + 160);
        var a32_0 = Vector512.Load(acc + 176);
        var a40_0 = Vector512.Load(acc + 192);
        var a41_0 = Vector512.Load(acc + 208);
        var a42_0 = Vector512.Load(acc + 224);
        var a50_0 = Vector512.Load(acc + 240);
        var a51_0 = Vector512.Load(acc + 256);
        var a52_0 = Vector512.Load(acc + 272);
        var a60_0 = Vector512.Load(acc + 288);
        var a61_0 = Vector512.Load(acc + 304);
        var a62_0 = Vector512.Load(acc + 320);
        var a70_0 = Vector512.Load(acc + 336);
        var a71_0 = Vector512.Load(acc + 352);
        var a72_0 = Vector512.Load(acc + 368);
        var x0 = x + 0L * channelStride;
        var x1 = x + 1L * channelStride;
        var x2 = x + 2L * channelStride;
        var x3 = x + 3L * channelStride;
        var x4 = x + 4L * channelStride;
        var x5 = x + 5L * channelStride;
        var x6 = x + 6L * channelStride;
        var x7 = x + 7L * channelStride;
        for (var r = 0; r < rows; r++)
        {
            var offset = rowOffsets[r];
            var p0 = x0 + offset;
            var p1 = x1 + offset;
            var p2 = x2 + offset;
            var p3 = x3 + offset;
            var p4 = x4 + offset;
            var p5 = x5 + offset;
            var p6 = x6 + offset;
            var p7 = x7 + offset;
            for (var q = 0; q < width; q++, dy += ld)
            {
                var d0 = Vector512.Load(dy + 0);
                var at = q * TStep.Value;
                var b00 = Vector512.Create(p0[at + 0]);
                a00_0 = Vector512.FusedMultiplyAdd(d0, b00, a00_0);
                var b01 = Vector512.Create(p0[at + 1]);
                a01_0 = Vector512.FusedMultiplyAdd(d0, b01, a01_0);
                var b02 = Vector512.Create(p0[at + 2]);
                a02_0 = Vector512.FusedMultiplyAdd(d0, b02, a02_0);
                var b10 = Vector512.Create(p1[at + 0]);
                a10_0 = Vector512.FusedMultiplyAdd(d0, b10, a10_0);
                var b11 = Vector512.Create(p1[at + 1]);
                a11_0 = Vector512.FusedMultiplyAdd(d0, b11, a11_0);
                var b12 = Vector512.Create(p1[at + 2]);
                a12_0 = Vector512.FusedMultiplyAdd(d0, b12, a12_0);
                var b20 = Vector512.Create(p2[at + 0]);
                a20_0 = Vector512.FusedMultiplyAdd(d0, b20, a20_0);
                var b21 = Vector512.Create(p2[at + 1]);
                a21_0 = Vector512.FusedMultiplyAdd(d0, b21, a21_0);
                var b22 = Vector512.Create(p2[at + 2]);
                a22_0 = Vector512.FusedMultiplyAdd(d0, b22, a22_0);
                var b30 = Vector512.Create(p3[at + 0]);
                a30_0 = Vector512.FusedMultiplyAdd(d0, b30, a30_0);
                var b31 = Vector512.Create(p3[at + 1]);
                a31_0 = Vector512.FusedMultiplyAdd(d0, b31, a31_0);
                var b32 = Vector512.Create(p3[at + 2]);
                a32_0 = Vector512.FusedMultiplyAdd(d0, b32, a32_0);
                var b40 = Vector512.Create(p4[at + 0]);
                a40_0 = Vector512.FusedMultiplyAdd(d0, b40, a40_0);
                var b41 = Vector512.Create(p4[at + 1]);
                a41_0 = Vector512.FusedMultiplyAdd(d0, b41, a41_0);
                var b42 = Vector512.Create(p4[at + 2]);
                a42_0 = Vector512.FusedMultiplyAdd(d0, b42, a42_0);
                var b50 = Vector512.Create(p5[at + 0]);
                a50_0 = Vector512.FusedMultiplyAdd(d0, b50, a50_0);
                var b51 = Vector512.Create(p5[at + 1]);
                a51_0 = Vector512.FusedMultiplyAdd(d0, b51, a51_0);
                var b52 = Vector512.Create(p5[at + 2]);
                a52_0 = Vector512.FusedMultiplyAdd(d0, b52, a52_0);
                var b60 = Vector512.Create(p6[at + 0]);
                a60_0 = Vector512.FusedMultiplyAdd(d0, b60, a60_0);
                var b61 = Vector512.Create(p6[at + 1]);
                a61_0 = Vector512.FusedMultiplyAdd(d0, b61, a61_0);
                var b62 = Vector512.Create(p6[at + 2]);
                a62_0 = Vector512.FusedMultiplyAdd(d0, b62, a62_0);
                var b70 = Vector512.Create(p7[at + 0]);
                a70_0 = Vector512.FusedMultiplyAdd(d0, b70, a70_0);
                var b71 = Vector512.Create(p7[at + 1]);
                a71_0 = Vector512.FusedMultiplyAdd(d0, b71, a71_0);
                var b72 = Vector512.Create(p7[at + 2]);
                a72_0 = Vector512.FusedMultiplyAdd(d0, b72, a72_0);
            }
        }
        a00_0.Store(acc + 0);
        a01_0.Store(acc + 16);
        a02_0.Store(acc + 32);
        a10_0.Store(acc + 48);
        a11_0.Store(acc + 64);
        a12_0.Store(acc + 80);
        a20_0.Store(acc + 96);
        a21_0.Store(acc + 112);
        a22_0.Store(acc + 128);
        a30_0.Store(acc + 144);
        a31_0.Store(acc + 160);
        a32_0.Store(acc + 176);
        a40_0.Store(acc + 192);
        a41_0.Store(acc + 208);
        a42_0.Store(acc + 224);
        a50_0.Store(acc + 240);
        a51_0.Store(acc + 256);
        a52_0.Store(acc + 272);
        a60_0.Store(acc + 288);
        a61_0.Store(acc + 304);
        a62_0.Store(acc + 320);
        a70_0.Store(acc + 336);
        a71_0.Store(acc + 352);
        a72_0.Store(acc + 368);
    }

}
