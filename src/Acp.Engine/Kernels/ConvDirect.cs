using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Acp.Engine.Kernels;

/// <summary>
/// Direct (im2col-free) convolution for stride-1 layers on AVX-512 machines, vectorised over output positions. It
/// covers the stride-1 layers <see cref="ConvByChannel"/> does not (8–15 output channels per group, or fewer than 7
/// output columns); im2col + BLAS reaches about half the multiply-add rate of a register-blocked loop on such thin
/// layers.
/// </summary>
/// <remarks>
/// <para>Canvas: the images of a tile are copied, zero-padded, into one tall plane per channel, Wc = W + PadLeft +
/// PadRight wide, images stacked with max(PadTop, PadBottom) zero rows between them. Output (image i, row oh, column
/// ow) is canvas position q = (i·(H + sep) + oh)·Wc + ow, and tap (kh, kw) of every output reads the canvas at
/// q + kh·dh·Wc + kw·dw: one fixed offset per tap. Runs of consecutive q are therefore plain vector loads for every
/// tap, with no edge cases; the few positions that are not outputs (the padding columns, the separator rows) are
/// computed and thrown away.</para>
/// <para>Forward: a register tile of 8 output channels × 48 positions (24 accumulators) runs over input channels
/// and taps, broadcasting one weight per channel. Backward data of a stride-1 layer is the forward pass of dy under
/// the complementary padding with the kernel flipped and transposed. Backward filter: a tile of 8 output channels ×
/// 3 taps accumulates dy·x into 16-lane partial sums over L1-sized chunks of positions; the lanes are folded once per
/// slot of images. Every loop has a fixed order, so results are deterministic.</para>
/// </remarks>
internal static unsafe class ConvDirect
{
    /// <summary>Output channels per register tile.</summary>
    private const int Block = 8;

    /// <summary>Canvas positions per forward register tile (three 16-float vectors).</summary>
    private const int Span = 48;

    /// <summary>Taps per backward-filter register tile.</summary>
    private const int TapGroup = 3;

    /// <summary>Canvas positions a tile aims for: enough that per-tile work (canvas fill, lane folds) is noise.</summary>
    private const int TargetPositions = 2048;

    /// <summary>Upper bound in floats on one tile's canvases, so they stay in L2.</summary>
    private const int CanvasBudget = 192 * 1024;

    /// <summary>Upper bound on the per-slot partial weight gradients (floats, all slots).</summary>
    private const long SlotBudget = 4L * 1024 * 1024;

    /// <summary>Most partial slots the filter gradient splits the batch into; fixed so results do not depend on the machine.</summary>
    private const int MaxSlots = 16;

    /// <summary>Whether the forward pass (and so the filter gradient) of g runs here.</summary>
    public static bool Applies(in ConvGeometry g) =>
        Vector512.IsHardwareAccelerated && g.StrideH == 1 && g.StrideW == 1 && g.KernelHeight * g.KernelWidth > 1 &&
        g.InChannelsPerGroup >= 2 && g.OutChannelsPerGroup >= Block &&
        // A one-image tile (canvases of every input and output channel) must stay a reasonable scratch.
        (long)(g.InChannelsPerGroup + g.OutChannelsPerGroup + Block) * new Canvas(g, 1).PlaneStride <= 16L * 1024 * 1024;

    /// <summary>
    /// The forward geometry whose result is the data gradient of the stride-1 layer g (flipped kernel, complementary
    /// padding), or null when g is strided or that would need negative padding.
    /// </summary>
    public static ConvGeometry? DataGradientGeometry(in ConvGeometry g)
    {
        if (g.StrideH != 1 || g.StrideW != 1) return null;
        int spanH = g.DilationH * (g.KernelHeight - 1), spanW = g.DilationW * (g.KernelWidth - 1);
        if (g.PadTop > spanH || g.PadBottom > spanH || g.PadLeft > spanW || g.PadRight > spanW) return null;
        return new ConvGeometry(g.Batch, g.OutChannels, g.OutHeight, g.OutWidth, g.InChannels, g.KernelHeight, g.KernelWidth,
            1, 1, spanH - g.PadTop, spanW - g.PadLeft, spanH - g.PadBottom, spanW - g.PadRight, g.DilationH, g.DilationW, g.Groups);
    }

    /// <summary>y = conv(x) + bias for a stride-1 layer (<see cref="Applies"/>).</summary>
    public static void Forward(ConvGeometry g, float[] x, float[] w, float[]? bias, float[] y) =>
        Run(g, x, w, transposeWeights: false, bias, y);

    /// <summary>dx of the stride-1 layer g, computed as the forward pass of <paramref name="t"/> = DataGradientGeometry(g).</summary>
    public static void BackwardData(ConvGeometry t, float[] dy, float[] w, float[] dx) =>
        Run(t, dy, w, transposeWeights: true, null, dx);

    /// <summary>
    /// y = conv(x) for geometry g. With transposeWeights, w is the weight tensor of the layer whose data gradient g
    /// computes ([g.InChannels, g.OutChannels/G, KH, KW]) and is read flipped and transposed.
    /// </summary>
    private static void Run(ConvGeometry g, float[] x, float[] w, bool transposeWeights, float[]? bias, float[] y)
    {
        var c = new Canvas(g, Math.Max(1, ImagesPerTile(g, g.Batch)));
        var cgi = g.InChannelsPerGroup;
        var cgo = g.OutChannelsPerGroup;
        var blocks = (cgo + Block - 1) / Block;
        var taps = g.KernelHeight * g.KernelWidth;
        var tiles = (g.Batch + c.Images - 1) / c.Images;
        // Row chunks feed idle workers when tiles × groups are too few (small batches); each chunk rebuilds the canvas.
        var chunks = Math.Clamp(Conv2d.CeilDiv(2 * ConvSimd.Workers, tiles * g.Groups), 1, Math.Max(1, c.OutRows / 4));
        var chunkRows = Conv2d.CeilDiv(c.OutRows, chunks);
        chunks = Conv2d.CeilDiv(c.OutRows, chunkRows);
        // The last register tile of a chunk may run up to Span − 1 positions past its end.
        var chunkPositions = RoundUp(chunkRows * c.Width, 16) + Span;
        var packedLength = blocks * cgi * taps * Block;
        var packed = ArrayPool<float>.Shared.Rent(g.Groups * packedLength);
        try
        {
            PackWeights(g, w, transposeWeights, packed, packedLength);
            var perItem = (long)blocks * Block * cgi * taps * chunkRows * c.Width;
            ConvSimd.For(tiles * g.Groups * chunks, cgi * c.PlaneStride + blocks * Block * chunkPositions, perItem, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (item, scratch) =>
            {
                var chunk = item % chunks;
                var grp = item / chunks % g.Groups;
                var n0 = item / chunks / g.Groups * c.Images;
                var images = Math.Min(c.Images, g.Batch - n0);
                var r0 = chunk * chunkRows;
                var r1 = Math.Min(c.RowsFor(images), r0 + chunkRows);
                if (r0 >= r1) return;
                var q0 = r0 * c.Width;
                var q1 = r1 * c.Width;
                Span<int> offsets = taps <= 256 ? stackalloc int[taps] : new int[taps];
                c.TapOffsets(offsets);
                fixed (float* px = x, py = y, ps = scratch, pw = packed)
                fixed (int* offs = offsets)
                {
                    var canvas = ps;
                    var output = ps + (long)cgi * c.PlaneStride;
                    c.Fill(px, g.InChannels, grp * cgi, cgi, n0, images, canvas);
                    var weights = pw + (long)grp * packedLength;
                    for (var q = q0; q < q1; q += Span)
                    {
                        for (var b = 0; b < blocks; b++)
                        {
                            ForwardTile(canvas + q, c.PlaneStride, offs, taps, cgi, weights + (long)b * cgi * taps * Block,
                                output + (long)b * Block * chunkPositions + (q - q0), chunkPositions);
                        }
                    }
                    c.Extract(output, chunkPositions, r0, r1, py, g.OutChannels, grp * cgo, cgo, n0, bias);
                }
            });
        }
        finally
        {
            ArrayPool<float>.Shared.Return(packed);
        }
    }

    /// <summary>
    /// dw (and nothing else: the caller does dbias) for a stride-1 layer. Slots of consecutive images, fixed by the
    /// batch size, each sum their images in order into a partial; partials are then added in slot order.
    /// </summary>
    /// <remarks>
    /// Each register tile (8 output channels × 3 taps of one input channel) accumulates 16-lane partial sums in a
    /// lane buffer that lives for the whole slot, and sweeps the positions of a tile of images in L1-sized chunks, so
    /// the 8 gradient rows of a chunk stay in L1 while every input channel and tap runs over them. Lanes are folded
    /// to scalars once per slot.
    /// </remarks>
    public static void BackwardFilter(ConvGeometry g, float[] x, float[] dy, float[] dw)
    {
        var cgi = g.InChannelsPerGroup;
        var cgo = g.OutChannelsPerGroup;
        var blocks = (cgo + Block - 1) / Block;
        var taps = g.KernelHeight * g.KernelWidth;
        var tapGroups = (taps + TapGroup - 1) / TapGroup;
        var weightLength = (int)g.WeightLength;
        var slots = (int)Math.Clamp(Math.Min(Math.Min(g.Batch, MaxSlots), SlotBudget / weightLength), 1, g.Batch);
        var c = new Canvas(g, Math.Max(1, ImagesPerTile(g, g.Batch / slots, withGradient: true)));
        // Block ranges per item when slots × groups alone cannot occupy the workers; each re-fills its canvases.
        var splits = Math.Clamp(Conv2d.CeilDiv(2 * ConvSimd.Workers, slots * g.Groups), 1, blocks);
        var blocksPerSplit = Conv2d.CeilDiv(blocks, splits);
        splits = Conv2d.CeilDiv(blocks, blocksPerSplit);
        var gradientLength = blocksPerSplit * Block * c.GradientStride;
        var laneLength = blocksPerSplit * cgi * tapGroups * LaneTile;
        var partials = slots > 1 ? ArrayPool<float>.Shared.Rent((slots - 1) * weightLength) : null;
        var perItem = (long)Conv2d.CeilDiv(g.Batch, slots) * blocksPerSplit * Block * cgi * taps * c.ImageRows * c.Width;
        try
        {
            ConvSimd.For(slots * g.Groups * splits, cgi * c.PlaneStride + gradientLength + laneLength, perItem, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (item, scratch) =>
            {
                var split = item % splits;
                var grp = item / splits % g.Groups;
                var slot = item / splits / g.Groups;
                var b0 = split * blocksPerSplit;
                var b1 = Math.Min(blocks, b0 + blocksPerSplit);
                var first = (int)((long)slot * g.Batch / slots);
                var last = (int)((long)(slot + 1) * g.Batch / slots);
                var target = slot == 0 ? dw : partials!;
                var targetOffset = slot == 0 ? 0 : (long)(slot - 1) * weightLength;
                Span<int> offsets = taps <= 256 ? stackalloc int[RoundUp(taps, TapGroup)] : new int[RoundUp(taps, TapGroup)];
                c.TapOffsets(offsets);
                // Padding taps repeat the first offset; their sums are computed and dropped.
                for (var t = taps; t < offsets.Length; t++) offsets[t] = offsets[0];
                fixed (float* px = x, pdy = dy, pt = target, ps = scratch)
                fixed (int* offs = offsets)
                {
                    var canvas = ps;
                    var gradient = ps + (long)cgi * c.PlaneStride;
                    var lanes = gradient + gradientLength;
                    ConvSimd.Zero(lanes, (b1 - b0) * cgi * tapGroups * LaneTile);
                    for (var n0 = first; n0 < last; n0 += c.Images)
                    {
                        var images = Math.Min(c.Images, last - n0);
                        c.Fill(px, g.InChannels, grp * cgi, cgi, n0, images, canvas);
                        c.FillGradient(pdy, g.OutChannels, grp * cgo + b0 * Block, Math.Min(cgo, b1 * Block) - b0 * Block, (b1 - b0) * Block, n0, images, gradient);
                        var positions = RoundUp(c.RowsFor(images) * c.Width, Vector512<float>.Count);
                        for (var b = b0; b < b1; b++)
                        {
                            var rows = gradient + (long)(b - b0) * Block * c.GradientStride;
                            var blockLanes = lanes + (long)(b - b0) * cgi * tapGroups * LaneTile;
                            for (var q0 = 0; q0 < positions; q0 += Chunk)
                            {
                                var count = Math.Min(Chunk, positions - q0);
                                for (var ci = 0; ci < cgi; ci++)
                                {
                                    var plane = canvas + (long)ci * c.PlaneStride + q0;
                                    for (var tg = 0; tg < tapGroups; tg++)
                                    {
                                        var o = offs + tg * TapGroup;
                                        FilterTile(rows + q0, c.GradientStride, plane, o[0], o[1], o[2], count,
                                            blockLanes + (long)(ci * tapGroups + tg) * LaneTile);
                                    }
                                }
                            }
                        }
                    }

                    // Fold the lanes, in a fixed order, into this slot's share of dw.
                    for (var b = b0; b < b1; b++)
                    {
                        var rows = Math.Min(Block, cgo - b * Block);
                        for (var ci = 0; ci < cgi; ci++)
                        {
                            for (var tg = 0; tg < tapGroups; tg++)
                            {
                                var tile = lanes + ((long)((b - b0) * cgi + ci) * tapGroups + tg) * LaneTile;
                                var count = Math.Min(TapGroup, taps - tg * TapGroup);
                                for (var r = 0; r < rows; r++)
                                {
                                    var dst = pt + targetOffset + ((long)(grp * cgo + b * Block + r) * cgi + ci) * taps + tg * TapGroup;
                                    for (var k = 0; k < count; k++) dst[k] = Vector512.Sum(Vector512.Load(tile + (r * TapGroup + k) * 16));
                                }
                            }
                        }
                    }
                }
            });
            if (partials is not null) Conv2d.AddSlots(dw, partials, slots - 1, weightLength);
        }
        finally
        {
            if (partials is not null) ArrayPool<float>.Shared.Return(partials);
        }
    }

    /// <summary>Floats of one backward-filter lane tile: 8 rows × 3 taps × 16 lanes.</summary>
    private const int LaneTile = Block * TapGroup * 16;

    /// <summary>Positions per backward-filter sweep: 8 gradient rows of this many floats (16 KiB) stay in L1.</summary>
    private const int Chunk = 512;

    /// <summary>
    /// 8 output channels × 48 positions: out[c][v] = Σ_ci Σ_t w[ci][t][c] · src[ci·planeStride + offs[t] + v].
    /// Weights are packed [ci][t][8] so the eight broadcasts of one step are adjacent.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForwardTile(float* src, int planeStride, int* offs, int taps, int channels, float* w, float* dst, int ld)
    {
        Vector512<float> a00 = default, a01 = default, a02 = default, a10 = default, a11 = default, a12 = default;
        Vector512<float> a20 = default, a21 = default, a22 = default, a30 = default, a31 = default, a32 = default;
        Vector512<float> a40 = default, a41 = default, a42 = default, a50 = default, a51 = default, a52 = default;
        Vector512<float> a60 = default, a61 = default, a62 = default, a70 = default, a71 = default, a72 = default;
        for (var ci = 0; ci < channels; ci++, src += planeStride)
        {
            for (var t = 0; t < taps; t++, w += Block)
            {
                var p = src + offs[t];
                var x0 = Vector512.Load(p);
                var x1 = Vector512.Load(p + 16);
                var x2 = Vector512.Load(p + 32);
                var b = Vector512.Create(w[0]);
                a00 = Vector512.FusedMultiplyAdd(x0, b, a00); a01 = Vector512.FusedMultiplyAdd(x1, b, a01); a02 = Vector512.FusedMultiplyAdd(x2, b, a02);
                b = Vector512.Create(w[1]);
                a10 = Vector512.FusedMultiplyAdd(x0, b, a10); a11 = Vector512.FusedMultiplyAdd(x1, b, a11); a12 = Vector512.FusedMultiplyAdd(x2, b, a12);
                b = Vector512.Create(w[2]);
                a20 = Vector512.FusedMultiplyAdd(x0, b, a20); a21 = Vector512.FusedMultiplyAdd(x1, b, a21); a22 = Vector512.FusedMultiplyAdd(x2, b, a22);
                b = Vector512.Create(w[3]);
                a30 = Vector512.FusedMultiplyAdd(x0, b, a30); a31 = Vector512.FusedMultiplyAdd(x1, b, a31); a32 = Vector512.FusedMultiplyAdd(x2, b, a32);
                b = Vector512.Create(w[4]);
                a40 = Vector512.FusedMultiplyAdd(x0, b, a40); a41 = Vector512.FusedMultiplyAdd(x1, b, a41); a42 = Vector512.FusedMultiplyAdd(x2, b, a42);
                b = Vector512.Create(w[5]);
                a50 = Vector512.FusedMultiplyAdd(x0, b, a50); a51 = Vector512.FusedMultiplyAdd(x1, b, a51); a52 = Vector512.FusedMultiplyAdd(x2, b, a52);
                b = Vector512.Create(w[6]);
                a60 = Vector512.FusedMultiplyAdd(x0, b, a60); a61 = Vector512.FusedMultiplyAdd(x1, b, a61); a62 = Vector512.FusedMultiplyAdd(x2, b, a62);
                b = Vector512.Create(w[7]);
                a70 = Vector512.FusedMultiplyAdd(x0, b, a70); a71 = Vector512.FusedMultiplyAdd(x1, b, a71); a72 = Vector512.FusedMultiplyAdd(x2, b, a72);
            }
        }
        a00.Store(dst); a01.Store(dst + 16); a02.Store(dst + 32); dst += ld;
        a10.Store(dst); a11.Store(dst + 16); a12.Store(dst + 32); dst += ld;
        a20.Store(dst); a21.Store(dst + 16); a22.Store(dst + 32); dst += ld;
        a30.Store(dst); a31.Store(dst + 16); a32.Store(dst + 32); dst += ld;
        a40.Store(dst); a41.Store(dst + 16); a42.Store(dst + 32); dst += ld;
        a50.Store(dst); a51.Store(dst + 16); a52.Store(dst + 32); dst += ld;
        a60.Store(dst); a61.Store(dst + 16); a62.Store(dst + 32); dst += ld;
        a70.Store(dst); a71.Store(dst + 16); a72.Store(dst + 32);
    }

    /// <summary>
    /// 8 gradient rows × 3 taps: lanes[(r·3 + k)·16 + l] += Σ over q ≡ l (mod 16), q &lt; positions, of
    /// dy[r·ld + q] · x[q + offk]; positions a multiple of 16. The lane partials are folded later, in a fixed order.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FilterTile(float* dy, int ld, float* x, int off0, int off1, int off2, int positions, float* lanes)
    {
        var a00 = Vector512.Load(lanes + 0);
        var a01 = Vector512.Load(lanes + 16);
        var a02 = Vector512.Load(lanes + 32);
        var a10 = Vector512.Load(lanes + 48);
        var a11 = Vector512.Load(lanes + 64);
        var a12 = Vector512.Load(lanes + 80);
        var a20 = Vector512.Load(lanes + 96);
        var a21 = Vector512.Load(lanes + 112);
        var a22 = Vector512.Load(lanes + 128);
        var a30 = Vector512.Load(lanes + 144);
        var a31 = Vector512.Load(lanes + 160);
        var a32 = Vector512.Load(lanes + 176);
        var a40 = Vector512.Load(lanes + 192);
        var a41 = Vector512.Load(lanes + 208);
        var a42 = Vector512.Load(lanes + 224);
        var a50 = Vector512.Load(lanes + 240);
        var a51 = Vector512.Load(lanes + 256);
        var a52 = Vector512.Load(lanes + 272);
        var a60 = Vector512.Load(lanes + 288);
        var a61 = Vector512.Load(lanes + 304);
        var a62 = Vector512.Load(lanes + 320);
        var a70 = Vector512.Load(lanes + 336);
        var a71 = Vector512.Load(lanes + 352);
        var a72 = Vector512.Load(lanes + 368);
        float* x0p = x + off0, x1p = x + off1, x2p = x + off2;
        float* d0 = dy, d1 = dy + ld, d2 = dy + 2 * ld, d3 = dy + 3 * ld, d4 = dy + 4 * ld, d5 = dy + 5 * ld, d6 = dy + 6 * ld, d7 = dy + 7 * ld;
        for (var q = 0; q < positions; q += 16)
        {
            var x0 = Vector512.Load(x0p + q);
            var x1 = Vector512.Load(x1p + q);
            var x2 = Vector512.Load(x2p + q);
            var e0 = Vector512.Load(d0 + q);
            a00 = Vector512.FusedMultiplyAdd(e0, x0, a00); a01 = Vector512.FusedMultiplyAdd(e0, x1, a01); a02 = Vector512.FusedMultiplyAdd(e0, x2, a02);
            var e1 = Vector512.Load(d1 + q);
            a10 = Vector512.FusedMultiplyAdd(e1, x0, a10); a11 = Vector512.FusedMultiplyAdd(e1, x1, a11); a12 = Vector512.FusedMultiplyAdd(e1, x2, a12);
            var e2 = Vector512.Load(d2 + q);
            a20 = Vector512.FusedMultiplyAdd(e2, x0, a20); a21 = Vector512.FusedMultiplyAdd(e2, x1, a21); a22 = Vector512.FusedMultiplyAdd(e2, x2, a22);
            var e3 = Vector512.Load(d3 + q);
            a30 = Vector512.FusedMultiplyAdd(e3, x0, a30); a31 = Vector512.FusedMultiplyAdd(e3, x1, a31); a32 = Vector512.FusedMultiplyAdd(e3, x2, a32);
            var e4 = Vector512.Load(d4 + q);
            a40 = Vector512.FusedMultiplyAdd(e4, x0, a40); a41 = Vector512.FusedMultiplyAdd(e4, x1, a41); a42 = Vector512.FusedMultiplyAdd(e4, x2, a42);
            var e5 = Vector512.Load(d5 + q);
            a50 = Vector512.FusedMultiplyAdd(e5, x0, a50); a51 = Vector512.FusedMultiplyAdd(e5, x1, a51); a52 = Vector512.FusedMultiplyAdd(e5, x2, a52);
            var e6 = Vector512.Load(d6 + q);
            a60 = Vector512.FusedMultiplyAdd(e6, x0, a60); a61 = Vector512.FusedMultiplyAdd(e6, x1, a61); a62 = Vector512.FusedMultiplyAdd(e6, x2, a62);
            var e7 = Vector512.Load(d7 + q);
            a70 = Vector512.FusedMultiplyAdd(e7, x0, a70); a71 = Vector512.FusedMultiplyAdd(e7, x1, a71); a72 = Vector512.FusedMultiplyAdd(e7, x2, a72);
        }
        a00.Store(lanes + 0);
        a01.Store(lanes + 16);
        a02.Store(lanes + 32);
        a10.Store(lanes + 48);
        a11.Store(lanes + 64);
        a12.Store(lanes + 80);
        a20.Store(lanes + 96);
        a21.Store(lanes + 112);
        a22.Store(lanes + 128);
        a30.Store(lanes + 144);
        a31.Store(lanes + 160);
        a32.Store(lanes + 176);
        a40.Store(lanes + 192);
        a41.Store(lanes + 208);
        a42.Store(lanes + 224);
        a50.Store(lanes + 240);
        a51.Store(lanes + 256);
        a52.Store(lanes + 272);
        a60.Store(lanes + 288);
        a61.Store(lanes + 304);
        a62.Store(lanes + 320);
        a70.Store(lanes + 336);
        a71.Store(lanes + 352);
        a72.Store(lanes + 368);
    }

    /// <summary>
    /// Packs weights per group as [block][ci][t][8] (8 output channels of a block adjacent, zero past the last
    /// channel). transpose: w belongs to the layer whose data gradient g is, [g.InChannels, g.OutChannels/G, KH, KW],
    /// and is read as w′[o][i][t] = w[i][o][T − 1 − t] (per group).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackWeights(in ConvGeometry g, float[] w, bool transpose, float[] packed, int packedLength)
    {
        int cgi = g.InChannelsPerGroup, cgo = g.OutChannelsPerGroup, taps = g.KernelHeight * g.KernelWidth;
        var blocks = (cgo + Block - 1) / Block;
        for (var grp = 0; grp < g.Groups; grp++)
        {
            for (var b = 0; b < blocks; b++)
            {
                for (var ci = 0; ci < cgi; ci++)
                {
                    for (var t = 0; t < taps; t++)
                    {
                        var dst = grp * packedLength + ((b * cgi + ci) * taps + t) * Block;
                        for (var r = 0; r < Block; r++)
                        {
                            var o = b * Block + r;
                            packed[dst + r] = o >= cgo ? 0f
                                : transpose ? w[((grp * cgi + ci) * cgo + o) * taps + taps - 1 - t]
                                : w[((grp * cgo + o) * cgi + ci) * taps + t];
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// Images per tile: enough for about <see cref="TargetPositions"/> canvas positions, within the canvas budget, and
    /// few enough that the tiles (times groups) can still occupy the workers.
    /// </summary>
    private static int ImagesPerTile(in ConvGeometry g, int maxImages, bool withGradient = false)
    {
        var one = new Canvas(g, 1);
        var perImage = (long)(one.Height + Math.Max(g.PadTop, g.PadBottom)) * one.Width;
        var channels = g.InChannelsPerGroup + (withGradient ? g.OutChannelsPerGroup : 0);
        var images = (int)Math.Clamp(Math.Min(TargetPositions / perImage, CanvasBudget / Math.Max(1, perImage * channels)), 1, Math.Max(1, maxImages));
        if (!withGradient)
        {
            while (images > 1 && (long)Conv2d.CeilDiv(g.Batch, images) * g.Groups < 2 * ConvSimd.Workers) images--;
        }
        return images;
    }

    private static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;

    /// <summary>The tall zero-padded plane of a tile of images (see the class remarks) and its addressing.</summary>
    private readonly struct Canvas
    {
        private readonly int h, w, pt, pl, outH, outW, spanH, spanW, dh, dw, kh, kw;

        public Canvas(in ConvGeometry g, int images)
        {
            h = g.InHeight;
            w = g.InWidth;
            pt = g.PadTop;
            pl = g.PadLeft;
            outH = g.OutHeight;
            outW = g.OutWidth;
            dh = g.DilationH;
            dw = g.DilationW;
            kh = g.KernelHeight;
            kw = g.KernelWidth;
            spanH = dh * (kh - 1);
            spanW = dw * (kw - 1);
            Images = images;
            Width = w + g.PadLeft + g.PadRight;
            ImageRows = h + Math.Max(g.PadTop, g.PadBottom);
            Height = RowsFor(images) + spanH;
            OutRows = RowsFor(images);
            // Reads reach past the last output position by at most one register tile plus the largest tap offset;
            // everything past the data is zero.
            var reach = OutRows * Width + Span + spanH * Width + spanW;
            PlaneStride = RoundUp(Math.Max(Height * Width, reach), 16);
            GradientStride = RoundUp(OutRows * Width, Span);
        }

        /// <summary>Images in a full tile.</summary>
        public int Images { get; }

        /// <summary>Canvas width Wc = W + PadLeft + PadRight.</summary>
        public int Width { get; }

        /// <summary>Canvas rows from one image to the next: H + max(PadTop, PadBottom).</summary>
        public int ImageRows { get; }

        /// <summary>Canvas rows of a full tile.</summary>
        public int Height { get; }

        /// <summary>Output rows (canvas positions ÷ Width) of a full tile.</summary>
        public int OutRows { get; }

        /// <summary>Floats per channel of an input canvas.</summary>
        public int PlaneStride { get; }

        /// <summary>Floats per channel of a gradient (output-coordinate) canvas.</summary>
        public int GradientStride { get; }

        /// <summary>Output rows spanned by a tile of the given number of images.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public int RowsFor(int images) => (images - 1) * ImageRows + outH;

        public void TapOffsets(Span<int> offsets)
        {
            for (var i = 0; i < kh; i++)
            {
                for (var j = 0; j < kw; j++) offsets[i * kw + j] = i * dh * Width + j * dw;
            }
        }

        /// <summary>
        /// Writes the canvases of channels [c0, c0 + count) of images [n0, n0 + images) of x (NCHW with the given
        /// channel count) to dst, every float of every plane, padding included.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Fill(float* x, int channels, int c0, int count, int n0, int images, float* dst)
        {
            var rows = (images - 1) * ImageRows + h + pt;
            for (var c = 0; c < count; c++)
            {
                var plane = dst + (long)c * PlaneStride;
                var row = 0;
                for (var i = 0; i < images; i++)
                {
                    var top = pt + i * ImageRows;
                    ConvSimd.Zero(plane + (long)row * Width, (top - row) * Width);
                    var src = x + ((long)(n0 + i) * channels + c0 + c) * h * w;
                    for (var r = 0; r < h; r++)
                    {
                        var line = plane + (long)(top + r) * Width;
                        for (var k = 0; k < pl; k++) line[k] = 0f;
                        ConvSimd.Copy(src + (long)r * w, line + pl, w);
                        for (var k = pl + w; k < Width; k++) line[k] = 0f;
                    }
                    row = top + h;
                }
                ConvSimd.Zero(plane + (long)rows * Width, PlaneStride - rows * Width);
            }
        }

        /// <summary>
        /// Writes output-coordinate canvases of gradient channels [c0, c0 + count) of images [n0, n0 + images) (dy
        /// NCHW with the given channel count), zero at every position that is not an output, and zero channels up to
        /// total.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void FillGradient(float* dy, int channels, int c0, int count, int total, int n0, int images, float* dst)
        {
            var positions = (images - 1) * ImageRows + outH;
            for (var c = 0; c < total; c++)
            {
                var plane = dst + (long)c * GradientStride;
                if (c >= count)
                {
                    ConvSimd.Zero(plane, GradientStride);
                    continue;
                }
                for (var i = 0; i < images; i++)
                {
                    var src = dy + ((long)(n0 + i) * channels + c0 + c) * outH * outW;
                    for (var r = 0; r < ImageRows && i * ImageRows + r < positions; r++)
                    {
                        var line = plane + (long)(i * ImageRows + r) * Width;
                        if (r >= outH)
                        {
                            ConvSimd.Zero(line, Width);
                            continue;
                        }
                        ConvSimd.Copy(src + (long)r * outW, line, outW);
                        for (var k = outW; k < Width; k++) line[k] = 0f;
                    }
                }
                ConvSimd.Zero(plane + (long)positions * Width, GradientStride - positions * Width);
            }
        }

        /// <summary>
        /// Copies the outputs among canvas rows [r0, r1) from out (channel planes ld apart, position r0·Width at
        /// index 0) to y (NCHW with the given channel count), adding bias.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Extract(float* output, int ld, int r0, int r1, float* y, int channels, int c0, int count, int n0, float[]? bias)
        {
            for (var r = r0; r < r1; r++)
            {
                var image = r / ImageRows;
                var oh = r % ImageRows;
                if (oh >= outH) continue;
                for (var c = 0; c < count; c++)
                {
                    var src = output + (long)c * ld + (r - r0) * Width;
                    var dst = y + (((long)(n0 + image) * channels + c0 + c) * outH + oh) * outW;
                    ConvSimd.CopyAdd(src, bias is null ? 0f : bias[c0 + c], dst, outW);
                }
            }
        }
    }
}
