using System.Runtime.CompilerServices;
using System.Buffers;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Acp.Engine.Kernels;

/// <summary>A horizontal step (stride) known to the JIT as a constant, so tap addresses fold into displacements.</summary>
internal interface IConvStep
{
    /// <summary>The step in elements.</summary>
    static abstract int Value { get; }
}

/// <summary>Stride 1.</summary>
internal readonly struct UnitStep : IConvStep
{
    public static int Value => 1;
}

/// <summary>Stride 2.</summary>
internal readonly struct DoubleStep : IConvStep
{
    public static int Value => 2;
}

/// <summary>
/// Direct convolution vectorised over output channels, for AVX-512 machines and layers with at least 16 output
/// channels per group: small images (14×14, 7×7, where a spatially vectorised kernel wastes a third of its lanes on
/// padding) and horizontal stride 2. Input planes are copied, zero-padded, into a per-image canvas; a register tile
/// holds 16–32 output channels × 7–28 outputs (28 accumulators: consecutive outputs of one row, or 7 outputs of
/// each of two rows when rows are shorter than 14) and runs over input channels and taps, loading one vector of
/// weights per 16 channels and broadcasting one input pixel per output position. Every accumulator is a useful
/// output, at the price of transposing the tile into NCHW when it is stored. (A 64-channel × 7 tile needs 33 vector
/// registers with its weights and broadcast, one more than AVX-512 has, and spilled an accumulator every step.)
/// </summary>
/// <remarks>
/// The filter gradient uses the same layout the other way round: dy is transposed per tile to [position, channel],
/// and a register tile of 16–64 output channels × 2–8 input channels × 3 taps of one kernel row accumulates over every
/// position of a tile of images. Partial sums stay per output channel (no lane folding), each item owns its region of
/// the slot partials, slots are added in slot order, and all loops run in a fixed order, so the result is
/// deterministic.
/// </remarks>
internal static unsafe partial class ConvByChannel
{
    /// <summary>Floats of transposed gradient a backward-filter sweep keeps in L1 (24 KiB).</summary>
    private const int L1Floats = 6 * 1024;

    /// <summary>Positions a backward-filter tile of images aims for.</summary>
    private const int TargetPositions = 1024;

    /// <summary>Upper bound in floats on a backward-filter tile's canvases and transposed gradient.</summary>
    private const int TileBudget = 256 * 1024;

    /// <summary>Upper bound on the per-slot partial weight gradients (floats, all slots).</summary>
    private const long SlotBudget = 4L * 1024 * 1024;

    /// <summary>Most partial slots the filter gradient splits the batch into; fixed so results do not depend on the machine.</summary>
    private const int MaxSlots = 16;

    /// <summary>Largest per-worker scratch (floats) this path takes on; beyond it the GEMM path's bounded tiles win.</summary>
    private const long ScratchLimit = 16L * 1024 * 1024;

    /// <summary>Whether the forward pass of g runs here.</summary>
    public static bool Applies(in ConvGeometry g) =>
        Vector512.IsHardwareAccelerated && Avx512F.IsSupported && g.StrideW is 1 or 2 && g.OutWidth >= 7 &&
        // A unit-stride 1×1 layer is a plain matrix product of the input planes (GEMM, no im2col); a strided one
        // (a projection shortcut) measured faster here: 32->64 at 14×14 1.28 ms against 1.80 ms.
        (g.KernelHeight * g.KernelWidth > 1 || g.StrideH > 1 || g.StrideW > 1) &&
        g.OutChannelsPerGroup >= 16 &&
        // One image's canvas plus its transposed gradient (the filter pass holds both).
        (long)RoundUp(g.InChannelsPerGroup, 8) * new Canvas(g).Plane + (long)g.OutHeight * g.OutWidth * RoundUp(g.OutChannelsPerGroup, 64) <= ScratchLimit;

    /// <summary>
    /// Whether the filter gradient of g runs here (the filter tile needs unit horizontal dilation, reads input channels
    /// in groups of 2–8, so a single one would waste most of it, and taps in threes, so a 1×1 kernel wastes two thirds).
    /// </summary>
    public static bool FilterApplies(in ConvGeometry g) => Applies(g) && g.DilationW == 1 && g.InChannelsPerGroup >= 2 && g.KernelHeight * g.KernelWidth > 1;

    /// <summary>y = conv(x) + bias (<see cref="Applies"/>); <paramref name="layouts"/> says which buffers are not dense NCHW.</summary>
    public static void Forward(ConvGeometry g, float[] x, float[] w, float[]? bias, float[] y, ConvEpilogue epilogue = default, ConvLayouts layouts = default) =>
        Run(g, x, w, transposeWeights: false, bias, y, epilogue, layouts);

    /// <summary>dx of a stride-1 layer, as the forward pass of its data-gradient geometry t (see <see cref="ConvDirect.DataGradientGeometry"/>).</summary>
    public static void BackwardData(ConvGeometry t, float[] dy, float[] w, float[] dx) =>
        Run(t, dy, w, transposeWeights: true, null, dx, ConvEpilogue.None, ConvLayouts.Dense);

    /// <summary>
    /// The layout of g's input canvas (zeros around the input pixels, rows <see cref="PlaneLayout.Pitch"/> apart), or
    /// null when the canvas does not hold every input pixel (a strided layer that never reads its last row or column):
    /// a buffer in this layout with zeros outside the pixels is read in place by <see cref="Forward"/> (see
    /// <see cref="ReadsInPlace"/> for the other layouts it reads in place).
    /// </summary>
    public static PlaneLayout? CanvasLayout(in ConvGeometry g)
    {
        var c = new Canvas(g);
        if (g.PadTop + g.InHeight > c.Height || g.PadLeft + g.InWidth > c.Width) return null;
        return new PlaneLayout(c.Plane, c.Width, g.PadTop * c.Width + g.PadLeft);
    }

    /// <summary>
    /// Whether <see cref="Forward"/> can read an input laid out as <paramref name="layout"/> in place, given zeros
    /// in the layout's cells outside the pixels: every cell the convolution reads, padding included, must lie in the
    /// pixel's own plane, on a pixel or on a cell around the pixels of its own row (never wrapping into the next row's
    /// pixels). Dense planes qualify for unpadded layers that read no further than the last pixel (the strided 1×1
    /// shortcuts); a canvas with wider margins than g's padding qualifies too, so one padded buffer serves readers with
    /// different padding.
    /// </summary>
    public static bool ReadsInPlace(in ConvGeometry g, PlaneLayout layout)
    {
        if (layout.Pitch <= 0 || layout.Origin < 0 || layout.Plane <= 0) return false;
        int originRow = layout.Origin / layout.Pitch, originColumn = layout.Origin % layout.Pitch;
        // The last row and column read, counted from pixel (0, 0).
        var lastRow = (g.OutHeight - 1) * g.StrideH + (g.KernelHeight - 1) * g.DilationH - g.PadTop;
        var lastColumn = (g.OutWidth - 1) * g.StrideW + (g.KernelWidth - 1) * g.DilationW - g.PadLeft;
        return g.PadTop <= originRow && g.PadLeft <= originColumn
            && originColumn + Math.Max(lastColumn + 1, g.InWidth) <= layout.Pitch
            && layout.Origin + (long)Math.Max(lastRow, g.InHeight - 1) * layout.Pitch + Math.Max(lastColumn + 1, g.InWidth) <= layout.Plane;
    }

    private static void Run(ConvGeometry g, float[] x, float[] w, bool transposeWeights, float[]? bias, float[] y, ConvEpilogue epilogue, ConvLayouts layouts)
    {
        var c = new Canvas(g);
        // The input is read in place when its layout allows (a padded hand-over, or dense planes an unpadded layer reads
        // within); otherwise each image's rows are copied into a canvas.
        var dense = PlaneLayout.Dense(g.InHeight, g.InWidth);
        PlaneLayout? inPlace = layouts.Input is { } given
            ? ReadsInPlace(g, given) ? given : throw new ArgumentException($"This convolution cannot read an input laid out as {given} in place ({g}).", nameof(layouts))
            : ReadsInPlace(g, dense) ? dense : null;
        int cgi = g.InChannelsPerGroup, cgo = g.OutChannelsPerGroup, taps = g.KernelHeight * g.KernelWidth;
        var ld = RoundUp(cgo, 16);
        var rows = new RowLoop(g, inPlace, layouts, epilogue, bias);
        var budget = ForcedCanvasBudget ?? CanvasBudget;
        // Deep layers (224-px ResNets' 256 and 512 channels) have more weights than L2 holds: 2.4 MB at 256 -> 256,
        // 9.4 MB at 512 -> 512. They run slice-major (see RunBySlice) when one image's canvas fits the canvas budget;
        // the others image after image.
        var sliceMajor = RunsInSlices(cgi * taps * ld) && ld > SliceWidth
            && (inPlace is not null || (long)g.InChannels * c.Plane <= budget);
        if (sliceMajor) RunBySlice(g, c, inPlace, x, w, transposeWeights, y, epilogue.Residual, rows, budget);
        else RunByImage(g, c, inPlace, x, w, transposeWeights, y, epilogue.Residual, rows);
    }

    /// <summary>
    /// Every output channel of one image (or a chunk of its rows) per work item, on weights packed once per call for
    /// all channels. Packed weights above <see cref="SliceWeightsAbove"/> (deep layers whose canvas is too large for
    /// <see cref="RunBySlice"/>) run slice by slice of output channels over all rows, so each weight is read once per
    /// image rather than once per row.
    /// </summary>
    private static void RunByImage(ConvGeometry g, Canvas c, PlaneLayout? inPlace, float[] x, float[] w, bool transposeWeights, float[] y, float[]? residual, RowLoop rows)
    {
        var readsInPlace = inPlace is not null;
        var canvasPlane = inPlace?.Plane ?? c.Plane;
        // From a plane's start to canvas cell (0, 0), which is pixel (−PadTop, −PadLeft).
        var canvasStart = inPlace is { } l ? l.Origin - g.PadTop * l.Pitch - g.PadLeft : 0;
        int cgi = g.InChannelsPerGroup, cgo = g.OutChannelsPerGroup, taps = g.KernelHeight * g.KernelWidth;
        var ld = RoundUp(cgo, 16);
        var packedLength = cgi * taps * ld;
        var vectorCount = ld / 16;
        var vectorStep = RunsInSlices(packedLength) ? SliceWidth / 16 : vectorCount;
        // Row chunks feed idle workers when images × groups are too few (small batches); each rebuilds its canvas.
        var chunks = Math.Clamp(Conv2d.CeilDiv(2 * ConvSimd.Workers, g.Batch * g.Groups), 1, g.OutHeight);
        var chunkRows = Conv2d.CeilDiv(g.OutHeight, chunks);
        chunks = Conv2d.CeilDiv(g.OutHeight, chunkRows);
        var packed = ArrayPool<float>.Shared.Rent(g.Groups * packedLength);
        try
        {
            PackWeights(g, w, transposeWeights, packed, packedLength, ld);
            // Geometry read into locals once: its sizes are computed properties, too slow to call per output row.
            int batch = g.Batch, groups = g.Groups, outH = g.OutHeight, strideH = g.StrideH;
            int inChannels = g.InChannels, outChannels = g.OutChannels, kernelH = g.KernelHeight, dilationH = g.DilationH;
            var perItem = (long)cgi * taps * ld * chunkRows * g.OutWidth;
            ConvSimd.For(batch * groups * chunks, cgi * c.Plane + TileFloats, perItem, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (item, scratch) =>
            {
                var chunk = item % chunks;
                var grp = item / chunks % groups;
                var n = item / chunks / groups;
                var oh0 = chunk * chunkRows;
                var oh1 = Math.Min(outH, oh0 + chunkRows);
                Span<int> offsets = taps <= 256 ? stackalloc int[taps] : new int[taps];
                c.TapOffsets(offsets, rows.Pitch);
                fixed (float* px = x, py = y, ps = scratch, pw = packed, pr = residual)
                fixed (int* offs = offsets)
                {
                    var tile = ps + (long)cgi * c.Plane;
                    var rowFirst = oh0 * strideH;
                    var rowLast = Math.Min(c.Height, (oh1 - 1) * strideH + (kernelH - 1) * dilationH + 1);
                    // An input in a layout this convolution reads in place is used as it is; otherwise this image's rows
                    // are copied into the scratch canvas.
                    var inputPlane = readsInPlace ? canvasPlane : c.InPlane;
                    var canvas = readsInPlace ? px + ((long)n * inChannels + grp * cgi) * canvasPlane + canvasStart : ps;
                    if (!readsInPlace) c.Fill(px + ((long)n * inChannels + grp * cgi) * c.InPlane, cgi, c.Plane, rowFirst, rowLast, canvas);
                    // While this image's rows compute, the next image's input (most likely this worker's next item)
                    // is prefetched into L2 a slice per row, so its canvas fill does not stall on memory. Measured
                    // on 28×28 inputs (forward 16->16: 0.90–0.94× the time); on 14×14 and 7×7 ones it did not pay.
                    var next = chunks == 1 && n + 1 < batch && c.InPlane >= PrefetchPlane
                        ? (byte*)(px + ((long)(n + 1) * inChannels + grp * cgi) * inputPlane) : null;
                    var prefetch = new Prefetch(next, (long)cgi * inputPlane * sizeof(float));
                    var weights = pw + (long)grp * packedLength;
                    for (var v = 0; v < vectorCount; v += vectorStep)
                    {
                        rows.Run(canvas, offs, weights + v * 16, ld, v, Math.Min(vectorCount, v + vectorStep), oh0, oh1, py, pr, n, grp, tile, vectorStep == vectorCount ? prefetch : default);
                    }
                }
            });
        }
        finally
        {
            ArrayPool<float>.Shared.Return(packed);
        }
    }

    /// <summary>
    /// One slice of <see cref="SliceWidth"/> output channels over every image per work item: the item packs its slice
    /// (at most 590 KB at 512 input channels) into its own scratch, where it stays in L2 while every row of every image
    /// runs through it. Packing all weights up front instead moved them through memory twice more per call (9.4 MB at
    /// 512 -> 512, written then read back once per image): 1.8 of a 512 -> 512 layer's 7.5 ms at 7×7, batch 8.
    /// Same tiles, same sums as <see cref="RunByImage"/>: only their order changes.
    /// </summary>
    private static void RunBySlice(ConvGeometry g, Canvas c, PlaneLayout? inPlace, float[] x, float[] w, bool transposeWeights, float[] y, float[]? residual, RowLoop rows, long canvasBudget)
    {
        int cgi = g.InChannelsPerGroup, cgo = g.OutChannelsPerGroup, taps = g.KernelHeight * g.KernelWidth;
        int batch = g.Batch, groups = g.Groups, outH = g.OutHeight, inChannels = g.InChannels;
        var vectors = RoundUp(cgo, 16) / 16;
        var sliceVectors = SliceWidth / 16;
        var slices = Conv2d.CeilDiv(vectors, sliceVectors);
        var sliceLength = cgi * taps * SliceWidth;
        // Inputs not readable in place are copied into canvases once per call, as many images at a time as a bounded
        // buffer holds, so the slices do not each copy them again.
        var imagesPerBlock = inPlace is not null ? batch : (int)Math.Clamp(canvasBudget / ((long)inChannels * c.Plane), 1, batch);
        var canvases = inPlace is not null ? [] : ArrayPool<float>.Shared.Rent(imagesPerBlock * inChannels * c.Plane);
        try
        {
            for (var n0 = 0; n0 < batch; n0 += imagesPerBlock)
            {
                var images = Math.Min(imagesPerBlock, batch - n0);
                if (inPlace is null)
                {
                    var first = n0;
                    ConvSimd.For(images * groups, 0, (long)cgi * c.Plane, (item, _) =>
                    {
                        var n = first + item / groups;
                        var grp = item % groups;
                        fixed (float* px = x, pc = canvases)
                        {
                            c.Fill(px + ((long)n * inChannels + grp * cgi) * c.InPlane, cgi, c.Plane, 0, c.Height,
                                pc + ((long)(n - first) * inChannels + grp * cgi) * c.Plane);
                        }
                    });
                }
                var block = n0;
                var source = inPlace is null ? canvases : x;
                var plane = inPlace?.Plane ?? c.Plane;
                // From a plane's start to canvas cell (0, 0), which is pixel (−PadTop, −PadLeft).
                var start = inPlace is { } l ? l.Origin - g.PadTop * l.Pitch - g.PadLeft : 0;
                var perItem = (long)sliceLength * images * outH * g.OutWidth;
                ConvSimd.For(groups * slices, sliceLength + TileFloats, perItem, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (item, scratch) =>
                {
                    var grp = item / slices;
                    var firstVector = item % slices * sliceVectors;
                    var endVector = Math.Min(vectors, firstVector + sliceVectors);
                    Span<int> offsets = taps <= 256 ? stackalloc int[taps] : new int[taps];
                    c.TapOffsets(offsets, rows.Pitch);
                    fixed (float* pw = w, ps = scratch, pin = source, py = y, pr = residual)
                    fixed (int* offs = offsets)
                    {
                        var sliceLd = (endVector - firstVector) * 16;
                        PackGroupColumns(g, pw, transposeWeights, grp, firstVector * 16, 0, cgi * taps, ps, sliceLd);
                        var tile = ps + sliceLength;
                        for (var n = block; n < block + images; n++)
                        {
                            var imageAt = inPlace is null ? n - block : n;
                            var canvas = pin + ((long)imageAt * inChannels + grp * cgi) * plane + start;
                            rows.Run(canvas, offs, ps, sliceLd, firstVector, endVector, 0, outH, py, pr, n, grp, tile, default);
                        }
                    }
                });
            }
        }
        finally
        {
            if (canvases.Length > 0) ArrayPool<float>.Shared.Return(canvases);
        }
    }

    /// <summary>Output channels per slice of <see cref="RunBySlice"/>: the widest forward tile.</summary>
    private const int SliceWidth = 32;

    /// <summary>Floats of input canvases <see cref="RunBySlice"/> fills at a time (16 MB).</summary>
    private const long CanvasBudget = 4L * 1024 * 1024;

    /// <summary>
    /// Replaces <see cref="CanvasBudget"/> for calls made on this thread, so tests can send small deep layers down the
    /// image-major fallback that only canvases of many megabytes take otherwise.
    /// </summary>
    [ThreadStatic]
    internal static long? ForcedCanvasBudget;

    /// <summary>The next image's input, prefetched into L2 a share per output row while this image computes.</summary>
    private readonly struct Prefetch(byte* next, long bytes)
    {
        public byte* Next { get; } = next;
        public long Bytes { get; } = bytes;
    }

    /// <summary>
    /// The per-call constants of the row loop both loop orders share: where a tile's outputs, residuals and canvas
    /// rows lie, and the epilogue. Read into fields once: the geometry's sizes are computed properties, too slow to
    /// call per output row.
    /// </summary>
    private readonly struct RowLoop
    {
        private readonly int outW, strideH, strideW, canvasPlane, taps, cgi, cgo, outChannels;
        private readonly PlaneLayout output, residualLayout;
        private readonly bool relu;
        private readonly float[]? bias;

        public RowLoop(in ConvGeometry g, PlaneLayout? inPlace, ConvLayouts layouts, ConvEpilogue epilogue, float[]? bias)
        {
            var c = new Canvas(g);
            outW = g.OutWidth;
            strideH = g.StrideH;
            strideW = g.StrideW;
            Pitch = inPlace?.Pitch ?? c.Width;
            canvasPlane = inPlace?.Plane ?? c.Plane;
            taps = g.KernelHeight * g.KernelWidth;
            cgi = g.InChannelsPerGroup;
            cgo = g.OutChannelsPerGroup;
            outChannels = g.OutChannels;
            output = layouts.Output ?? PlaneLayout.Dense(g.OutHeight, g.OutWidth);
            residualLayout = layouts.Residual ?? PlaneLayout.Dense(g.OutHeight, g.OutWidth);
            relu = epilogue.Relu;
            this.bias = bias;
        }

        /// <summary>Floats between canvas rows.</summary>
        public int Pitch { get; }

        /// <summary>
        /// Output rows [oh0, oh1) of output-channel vectors [firstVector, endVector) of image n, group grp: canvas is
        /// the group's first input plane at canvas cell (0, 0); weights hold vector firstVector's channels first, rows
        /// ld floats apart.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run(float* canvas, int* offs, float* weights, int ld, int firstVector, int endVector, int oh0, int oh1, float* y, float* residual, int n, int grp, float* tile, Prefetch prefetch)
        {
            var yBase = y + ((long)n * outChannels + grp * cgo) * output.Plane;
            var rBase = residual is null ? null : residual + ((long)n * outChannels + grp * cgo) * residualLayout.Plane;
            for (var oh = oh0; oh < oh1;)
            {
                if (prefetch.Next is not null && Sse.IsSupported)
                {
                    for (long at = prefetch.Bytes * (oh - oh0) / (oh1 - oh0) / 64 * 64, end = prefetch.Bytes * (oh + 1 - oh0) / (oh1 - oh0); at < end; at += 64) Sse.Prefetch1(prefetch.Next + at);
                }
                // Rows shorter than 14 outputs run two at a time (7 positions from each) through the 14-position
                // tiles, so every weight vector loaded feeds 14 multiply-adds; an odd last row runs alone
                // (pairing it with the row before would recompute a seventh of a 7-row image).
                var paired = outW < 14 && oh1 - oh >= 2;
                var first = oh;
                var second = paired ? first + 1 : first;
                var row = canvas + (long)first * strideH * Pitch;
                var nextRow = canvas + (long)second * strideH * Pitch;
                for (var v = firstVector; v < endVector;)
                {
                    var vectors = endVector - v >= 2 ? 2 : 1;
                    // Positions per row of one tile run.
                    var span = paired ? 7 : vectors == 2 ? (outW >= 14 ? 14 : 7) : outW >= 28 ? 28 : outW >= 14 ? 14 : 7;
                    var w = weights + (v - firstVector) * 16;
                    for (var ow0 = 0; ow0 < outW; ow0 += span)
                    {
                        // The last run overlaps the previous one rather than running short; overlapping
                        // outputs are recomputed identically.
                        var start = Math.Min(ow0, outW - span);
                        var src = row + (long)start * strideW;
                        var src2 = paired ? nextRow + (long)start * strideW : src + 7L * strideW;
                        var positions = paired ? 14 : span;
                        if (strideW == 1) ForwardRun<UnitStep>(vectors, positions, src, src2, canvasPlane, offs, taps, cgi, w, ld, tile);
                        else ForwardRun<DoubleStep>(vectors, positions, src, src2, canvasPlane, offs, taps, cgi, w, ld, tile);
                        // Where the run's positions go: the first split positions from (first, start), the rest
                        // from (second, start) when two short rows are paired, else straight after the first.
                        var runs = new TileRuns(output.At(first, start), paired ? output.At(second, start) : output.At(first, start + span),
                            residualLayout.At(first, start), paired ? residualLayout.At(second, start) : residualLayout.At(first, start + span));
                        StoreTile(tile, vectors * 16, positions, span, yBase, output.Plane, rBase, residualLayout.Plane, in runs, relu, v * 16, cgo, bias, grp * cgo);
                    }
                    v += vectors;
                }
                oh += paired ? 2 : 1;
            }
        }
    }

    /// <summary>
    /// Floats of the forward output tile: 32 channels × 14 positions or 16 × 28, with room for the transpose to read
    /// whole 16-position blocks (the rows past the run are garbage it never stores).
    /// </summary>
    private const int TileFloats = 1024;

    /// <summary>
    /// Packed weights (bytes, one group) above which the forward pass runs slice by slice of output channels over all
    /// rows rather than row by row over all channels: half of a 1 MiB L2, so a slice and the image's canvas stay there.
    /// </summary>
    private const long SliceWeightsAbove = 512 * 1024;

    /// <summary>Whether a group's packed weights (floats) exceed <see cref="SliceWeightsAbove"/>.</summary>
    private static bool RunsInSlices(long packedFloats) => packedFloats * sizeof(float) > SliceWeightsAbove;

    /// <summary>Smallest input plane (floats) whose next image the forward pass prefetches.</summary>
    private const int PrefetchPlane = 400;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ForwardRun<TStep>(int vectors, int positions, float* src, float* src2, int plane, int* offs, int taps, int channels, float* w, int ld, float* tile)
        where TStep : struct, IConvStep
    {
        switch (vectors * 100 + positions)
        {
            case 214: Forward2x14<TStep>(src, src2, plane, offs, taps, channels, w, ld, tile); break;
            case 207: Forward2x7<TStep>(src, plane, offs, taps, channels, w, ld, tile); break;
            case 128: Forward1x28<TStep>(src, plane, offs, taps, channels, w, ld, tile); break;
            case 114: Forward1x14<TStep>(src, src2, plane, offs, taps, channels, w, ld, tile); break;
            default: Forward1x7<TStep>(src, plane, offs, taps, channels, w, ld, tile); break;
        }
    }

    /// <summary>
    /// Writes a [position, channel] tile of the given positions into planar rows: positions p &lt; split go to
    /// y[(c0 + o)·yPlane + runs.Output + p], the rest to y[(c0 + o)·yPlane + runs.SecondOutput + p − split] (the second
    /// of two short rows, or simply the rest of the row), for o below channels − c0, adding bias. Transposes 16×16
    /// blocks in registers and stores each channel's run with masks: element-by-element copies cost a fifth of the whole
    /// forward pass on 32-channel layers. The epilogue (the residual read at the Residual offsets of its own planes,
    /// then ReLU) is applied on the way, while the rows are in registers.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void StoreTile(float* tile, int width, int positions, int split, float* y, int yPlane, float* residual, int residualPlane, in TileRuns runs, bool relu, int c0, int channels, float[]? bias, int biasOffset)
    {
        var count = Math.Min(width, channels - c0);
        var block = stackalloc float[256];
        for (var g0 = 0; g0 < count; g0 += 16)
        {
            for (var p0 = 0; p0 < positions; p0 += 16)
            {
                Transpose16(tile + (long)p0 * width + g0, width, block);
                // Lane l is position p0 + l: the first mask selects the first run, the second the second run.
                var lane = Vector512<int>.Indices + Vector512.Create(p0);
                var firstMask = Vector512.LessThan(lane, Vector512.Create(Math.Min(split, positions))).AsSingle();
                var secondMask = (Vector512.GreaterThanOrEqual(lane, Vector512.Create(split)) & Vector512.LessThan(lane, Vector512.Create(positions))).AsSingle();
                var yFirst = runs.Output + p0;
                var ySecond = runs.SecondOutput - split + p0;
                var rFirst = runs.Residual + p0;
                var rSecond = runs.SecondResidual - split + p0;
                var hasSecond = secondMask != Vector512<float>.Zero;
                for (var o = g0; o < Math.Min(count, g0 + 16); o++)
                {
                    var values = Vector512.Load(block + (o - g0) * 16);
                    if (bias is not null) values += Vector512.Create(bias[biasOffset + c0 + o]);
                    if (residual is not null)
                    {
                        var rPlane = residual + (long)(c0 + o) * residualPlane;
                        var r = Avx512F.MaskLoad(rPlane + rFirst, firstMask, Vector512<float>.Zero);
                        if (hasSecond) r = Avx512F.MaskLoad(rPlane + rSecond, secondMask, r);
                        values += r;
                    }
                    if (relu) values = Vector512.Max(values, Vector512<float>.Zero);
                    var yPlaneAt = y + (long)(c0 + o) * yPlane;
                    Avx512F.MaskStore(yPlaneAt + yFirst, firstMask, values);
                    if (hasSecond) Avx512F.MaskStore(yPlaneAt + ySecond, secondMask, values);
                }
            }
        }
    }

    /// <summary>
    /// Offsets within a plane where a tile's run of positions is stored (output) and read (residual): the first
    /// positions from Output / Residual on, the rest from SecondOutput / SecondResidual on. Passed by reference: by
    /// value, the JIT wrote its four ints and read them back as one 16-byte copy, a failed store forwarding on every
    /// tile (1.3 % of an inference pass; by reference a pass takes 0.97–0.98× the time, paired A/B).
    /// </summary>
    private readonly record struct TileRuns(int Output, int SecondOutput, int Residual, int SecondResidual);

    /// <summary>dst[o·16 + p] = src[p·stride + o] for o, p &lt; 16 (the classic unpack / shuffle network).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Transpose16(float* src, int stride, float* dst)
    {
        Vector512<float> r0 = Vector512.Load(src), r1 = Vector512.Load(src + stride), r2 = Vector512.Load(src + 2 * stride), r3 = Vector512.Load(src + 3 * stride);
        Vector512<float> r4 = Vector512.Load(src + 4 * stride), r5 = Vector512.Load(src + 5 * stride), r6 = Vector512.Load(src + 6 * stride), r7 = Vector512.Load(src + 7 * stride);
        Vector512<float> r8 = Vector512.Load(src + 8 * stride), r9 = Vector512.Load(src + 9 * stride), r10 = Vector512.Load(src + 10 * stride), r11 = Vector512.Load(src + 11 * stride);
        Vector512<float> r12 = Vector512.Load(src + 12 * stride), r13 = Vector512.Load(src + 13 * stride), r14 = Vector512.Load(src + 14 * stride), r15 = Vector512.Load(src + 15 * stride);

        var t0 = Avx512F.UnpackLow(r0, r1); var t1 = Avx512F.UnpackHigh(r0, r1);
        var t2 = Avx512F.UnpackLow(r2, r3); var t3 = Avx512F.UnpackHigh(r2, r3);
        var t4 = Avx512F.UnpackLow(r4, r5); var t5 = Avx512F.UnpackHigh(r4, r5);
        var t6 = Avx512F.UnpackLow(r6, r7); var t7 = Avx512F.UnpackHigh(r6, r7);
        var t8 = Avx512F.UnpackLow(r8, r9); var t9 = Avx512F.UnpackHigh(r8, r9);
        var t10 = Avx512F.UnpackLow(r10, r11); var t11 = Avx512F.UnpackHigh(r10, r11);
        var t12 = Avx512F.UnpackLow(r12, r13); var t13 = Avx512F.UnpackHigh(r12, r13);
        var t14 = Avx512F.UnpackLow(r14, r15); var t15 = Avx512F.UnpackHigh(r14, r15);

        r0 = Avx512F.UnpackLow(t0.AsDouble(), t2.AsDouble()).AsSingle(); r1 = Avx512F.UnpackHigh(t0.AsDouble(), t2.AsDouble()).AsSingle();
        r2 = Avx512F.UnpackLow(t1.AsDouble(), t3.AsDouble()).AsSingle(); r3 = Avx512F.UnpackHigh(t1.AsDouble(), t3.AsDouble()).AsSingle();
        r4 = Avx512F.UnpackLow(t4.AsDouble(), t6.AsDouble()).AsSingle(); r5 = Avx512F.UnpackHigh(t4.AsDouble(), t6.AsDouble()).AsSingle();
        r6 = Avx512F.UnpackLow(t5.AsDouble(), t7.AsDouble()).AsSingle(); r7 = Avx512F.UnpackHigh(t5.AsDouble(), t7.AsDouble()).AsSingle();
        r8 = Avx512F.UnpackLow(t8.AsDouble(), t10.AsDouble()).AsSingle(); r9 = Avx512F.UnpackHigh(t8.AsDouble(), t10.AsDouble()).AsSingle();
        r10 = Avx512F.UnpackLow(t9.AsDouble(), t11.AsDouble()).AsSingle(); r11 = Avx512F.UnpackHigh(t9.AsDouble(), t11.AsDouble()).AsSingle();
        r12 = Avx512F.UnpackLow(t12.AsDouble(), t14.AsDouble()).AsSingle(); r13 = Avx512F.UnpackHigh(t12.AsDouble(), t14.AsDouble()).AsSingle();
        r14 = Avx512F.UnpackLow(t13.AsDouble(), t15.AsDouble()).AsSingle(); r15 = Avx512F.UnpackHigh(t13.AsDouble(), t15.AsDouble()).AsSingle();

        t0 = Avx512F.Shuffle4x128(r0, r4, 0x88); t1 = Avx512F.Shuffle4x128(r1, r5, 0x88);
        t2 = Avx512F.Shuffle4x128(r2, r6, 0x88); t3 = Avx512F.Shuffle4x128(r3, r7, 0x88);
        t4 = Avx512F.Shuffle4x128(r0, r4, 0xdd); t5 = Avx512F.Shuffle4x128(r1, r5, 0xdd);
        t6 = Avx512F.Shuffle4x128(r2, r6, 0xdd); t7 = Avx512F.Shuffle4x128(r3, r7, 0xdd);
        t8 = Avx512F.Shuffle4x128(r8, r12, 0x88); t9 = Avx512F.Shuffle4x128(r9, r13, 0x88);
        t10 = Avx512F.Shuffle4x128(r10, r14, 0x88); t11 = Avx512F.Shuffle4x128(r11, r15, 0x88);
        t12 = Avx512F.Shuffle4x128(r8, r12, 0xdd); t13 = Avx512F.Shuffle4x128(r9, r13, 0xdd);
        t14 = Avx512F.Shuffle4x128(r10, r14, 0xdd); t15 = Avx512F.Shuffle4x128(r11, r15, 0xdd);

        Avx512F.Shuffle4x128(t0, t8, 0x88).Store(dst);
        Avx512F.Shuffle4x128(t1, t9, 0x88).Store(dst + 16);
        Avx512F.Shuffle4x128(t2, t10, 0x88).Store(dst + 32);
        Avx512F.Shuffle4x128(t3, t11, 0x88).Store(dst + 48);
        Avx512F.Shuffle4x128(t4, t12, 0x88).Store(dst + 64);
        Avx512F.Shuffle4x128(t5, t13, 0x88).Store(dst + 80);
        Avx512F.Shuffle4x128(t6, t14, 0x88).Store(dst + 96);
        Avx512F.Shuffle4x128(t7, t15, 0x88).Store(dst + 112);
        Avx512F.Shuffle4x128(t0, t8, 0xdd).Store(dst + 128);
        Avx512F.Shuffle4x128(t1, t9, 0xdd).Store(dst + 144);
        Avx512F.Shuffle4x128(t2, t10, 0xdd).Store(dst + 160);
        Avx512F.Shuffle4x128(t3, t11, 0xdd).Store(dst + 176);
        Avx512F.Shuffle4x128(t4, t12, 0xdd).Store(dst + 192);
        Avx512F.Shuffle4x128(t5, t13, 0xdd).Store(dst + 208);
        Avx512F.Shuffle4x128(t6, t14, 0xdd).Store(dst + 224);
        Avx512F.Shuffle4x128(t7, t15, 0xdd).Store(dst + 240);
    }

    /// <summary>
    /// dw for g (the caller does dbias). Slots of consecutive images, fixed by the batch size, each sum their images in
    /// order into a partial; partials are added in slot order.
    /// </summary>
    public static void BackwardFilter(ConvGeometry g, float[] x, float[] dy, float[] dw)
    {
        var c = new Canvas(g);
        int cgi = g.InChannelsPerGroup, cgo = g.OutChannelsPerGroup, taps = g.KernelHeight * g.KernelWidth;
        int kh = g.KernelHeight, kw = g.KernelWidth;
        var tapGroups = Conv2d.CeilDiv(kw, 3);
        var vectorsTotal = Conv2d.CeilDiv(cgo, 16);
        var weightLength = (int)g.WeightLength;
        var slots = (int)Math.Clamp(Math.Min(Math.Min(g.Batch, MaxSlots), SlotBudget / weightLength), 1, g.Batch);
        // Output-channel ranges per item (whole 64-channel blocks) when slots × groups cannot occupy the workers.
        var units = Conv2d.CeilDiv(vectorsTotal, 4);
        var splits = Math.Clamp(Conv2d.CeilDiv(2 * ConvSimd.Workers, slots * g.Groups), 1, units);
        var unitsPerSplit = Conv2d.CeilDiv(units, splits);
        splits = Conv2d.CeilDiv(units, unitsPerSplit);
        var splitVectors = Math.Min(vectorsTotal, unitsPerSplit * 4);
        var positionsPerImage = g.OutHeight * g.OutWidth;
        var cgiPadded = RoundUp(cgi, 8);
        var perImage = (long)cgiPadded * c.Plane + (long)positionsPerImage * splitVectors * 16;
        var images = (int)Math.Clamp(Math.Min(TargetPositions / positionsPerImage, TileBudget / perImage), 1, Math.Max(1, g.Batch / slots));
        // Partial sums of an item, in the register tiles' own layout: for each output-channel block, input-channel
        // group, kernel row and tap group, [channel k][tap m][vector v][16 lanes].
        var accLength = splitVectors * 16 * cgiPadded * kh * tapGroups * 3;
        // Every item accumulates straight into its own region of the partials, [slot][group][split]; the slots are
        // then added in slot order and only the sum is scattered into dw (scattering every slot's partial, 16 times
        // per call, took a tenth of the 64-channel filter pass).
        var regions = g.Groups * splits;
        var partials = ArrayPool<float>.Shared.Rent(slots * regions * accLength);
        var scratchLength = (int)(images * perImage) + images * g.OutHeight;
        var perItem = (long)Conv2d.CeilDiv(g.Batch, slots) * positionsPerImage * splitVectors * 16 * cgi * taps;
        try
        {
            // Geometry read into locals once: its sizes are computed properties, too slow to call in the loops.
            int outH = g.OutHeight, outW = g.OutWidth, strideH = g.StrideH, strideW = g.StrideW, dilationH = g.DilationH;
            int inChannels = g.InChannels, groups = g.Groups;
            ConvSimd.For(slots * groups * splits, scratchLength, perItem, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (item, scratch) =>
            {
                var split = item % splits;
                var grp = item / splits % groups;
                var slot = item / splits / groups;
                var v0 = split * unitsPerSplit * 4;
                var v1 = Math.Min(vectorsTotal, v0 + unitsPerSplit * 4);
                var first = (int)((long)slot * g.Batch / slots);
                var last = (int)((long)(slot + 1) * g.Batch / slots);
                fixed (float* px = x, pdy = dy, ps = scratch, pp = partials)
                {
                    var canvas = ps;
                    var gradient = ps + (long)images * cgiPadded * c.Plane;
                    var rowOffsets = (int*)(gradient + (long)images * positionsPerImage * splitVectors * 16);
                    var acc = pp + ((long)slot * regions + grp * splits + split) * accLength;
                    ConvSimd.Zero(acc, accLength);
                    var ld = (v1 - v0) * 16;
                    for (var n0 = first; n0 < last; n0 += images)
                    {
                        var count = Math.Min(images, last - n0);
                        var channelStride = count * c.Plane;
                        for (var i = 0; i < count; i++)
                        {
                            // Canvas planes are [input channel][image]; padding channels up to a multiple of 8 are zero.
                            c.Fill(px + ((long)(n0 + i) * inChannels + grp * cgi) * c.InPlane, cgi, channelStride, 0, c.Height, canvas + (long)i * c.Plane);
                            for (var ci = cgi; ci < cgiPadded; ci++) ConvSimd.Zero(canvas + (long)ci * channelStride + (long)i * c.Plane, c.Plane);
                            for (var oh = 0; oh < outH; oh++) rowOffsets[i * outH + oh] = i * c.Plane + oh * strideH * c.Width;
                        }
                        Transpose(pdy, g, grp * cgo + v0 * 16, Math.Min(cgo, v1 * 16) - v0 * 16, ld, n0, count, gradient);

                        // Output rows in chunks whose transposed gradient stays in L1 while every input channel and
                        // tap sweeps it; the accumulators go through memory between chunks, in the same order.
                        var totalRows = count * outH;
                        var chunkRows = Math.Max(1, L1Floats / (outW * ld));
                        for (var r0 = 0; r0 < totalRows; r0 += chunkRows)
                        {
                            var rows = Math.Min(chunkRows, totalRows - r0);
                            var accAt = acc;
                            for (var v = v0; v < v1;)
                            {
                                var vectors = v1 - v >= 4 ? 4 : v1 - v >= 2 ? 2 : 1;
                                var group = 8 / vectors;
                                var grad = gradient + (long)r0 * outW * ld + (v - v0) * 16;
                                for (var ci = 0; ci < cgiPadded; ci += group)
                                {
                                    for (var r = 0; r < kh; r++)
                                    {
                                        for (var tg = 0; tg < tapGroups; tg++)
                                        {
                                            var src = canvas + (long)ci * channelStride + r * dilationH * c.Width + tg * 3;
                                            if (strideW == 1) FilterRun<UnitStep>(vectors, grad, ld, src, channelStride, rowOffsets + r0, rows, outW, accAt);
                                            else FilterRun<DoubleStep>(vectors, grad, ld, src, channelStride, rowOffsets + r0, rows, outW, accAt);
                                            accAt += group * 3 * vectors * 16;
                                        }
                                    }
                                }
                                v += vectors;
                            }
                        }
                    }

                }
            });

            // Slot sums, in slot order (the same association as adding each slot's share of dw in turn), in chunks
            // of one region at a time; then each region's sum goes to dw once.
            const int Chunk = 4096;
            var chunks = Conv2d.CeilDiv(accLength, Chunk);
            ConvSimd.For(regions * chunks, 0, (long)slots * Chunk, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (item, _) =>
            {
                var region = item / chunks;
                var start = item % chunks * Chunk;
                var length = Math.Min(Chunk, accLength - start);
                fixed (float* pp = partials)
                {
                    var sum = pp + (long)region * accLength + start;
                    for (var s = 1; s < slots; s++) ConvSimd.Add(pp + ((long)s * regions + region) * accLength + start, sum, length);
                }
            });
            ConvSimd.For(regions, 0, accLength, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (region, _) =>
            {
                var grp = region / splits;
                var split = region % splits;
                var v0 = split * unitsPerSplit * 4;
                var v1 = Math.Min(vectorsTotal, v0 + unitsPerSplit * 4);
                fixed (float* pp = partials, pdw = dw)
                {
                    ScatterFilterSums(pp + (long)region * accLength, v0, v1, cgi, cgiPadded, cgo, kh, kw, tapGroups, pdw + (long)grp * cgo * cgi * taps);
                }
            });
        }
        finally
        {
            ArrayPool<float>.Shared.Return(partials);
        }
    }

    /// <summary>
    /// Writes the filter sums of output-channel vectors [v0, v1) of one group, laid out as the register tiles left
    /// them (for each block of 1–4 vectors, input-channel group, kernel row and tap group: [channel k][tap m][vector]
    /// [16 lanes]), into the group's share of dw ([C_out/G, C_in/G, KH, KW]), skipping the padding channels and taps.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ScatterFilterSums(float* at, int v0, int v1, int cgi, int cgiPadded, int cgo, int kh, int kw, int tapGroups, float* dw)
    {
        var taps = kh * kw;
        for (var v = v0; v < v1;)
        {
            var vectors = v1 - v >= 4 ? 4 : v1 - v >= 2 ? 2 : 1;
            var group = 8 / vectors;
            var channels = Math.Min(vectors * 16, cgo - v * 16);
            for (var ci0 = 0; ci0 < cgiPadded; ci0 += group)
            {
                for (var r = 0; r < kh; r++)
                {
                    for (var tg = 0; tg < tapGroups; tg++, at += group * 3 * vectors * 16)
                    {
                        for (var k = 0; k < group && ci0 + k < cgi; k++)
                        {
                            for (var m = 0; m < 3 && tg * 3 + m < kw; m++)
                            {
                                var lanes = at + (k * 3 + m) * vectors * 16;
                                var target = dw + ((long)v * 16 * cgi + ci0 + k) * taps + r * kw + tg * 3 + m;
                                var stride = (long)cgi * taps;
                                for (var o = 0; o < channels; o++) target[o * stride] = lanes[o];
                            }
                        }
                    }
                }
            }
            v += vectors;
        }
    }


    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FilterRun<TStep>(int vectors, float* dy, int ld, float* x, int channelStride, int* rowOffsets, int rows, int width, float* acc)
        where TStep : struct, IConvStep
    {
        switch (vectors)
        {
            case 4: Filter4x2<TStep>(dy, ld, x, channelStride, rowOffsets, rows, width, acc); break;
            case 2: Filter2x4<TStep>(dy, ld, x, channelStride, rowOffsets, rows, width, acc); break;
            default: Filter1x8<TStep>(dy, ld, x, channelStride, rowOffsets, rows, width, acc); break;
        }
    }

    /// <summary>
    /// dst[(i·OH·OW + p)·ld + o] = dy[n0 + i, c0 + o, p] for o &lt; count, 0 for count ≤ o &lt; ld: the gradient of a tile
    /// of images as [position, channel].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Transpose(float* dy, in ConvGeometry g, int c0, int count, int ld, int n0, int images, float* dst)
    {
        var plane = g.OutHeight * g.OutWidth;
        var block = stackalloc float[256];
        for (var i = 0; i < images; i++)
        {
            var image = dst + (long)i * plane * ld;
            var src = dy + ((long)(n0 + i) * g.OutChannels + c0) * plane;
            for (var o0 = 0; o0 < ld; o0 += 16)
            {
                var p0 = 0;
                if (o0 + 16 <= count)
                {
                    // Whole 16×16 blocks go through the register transpose; the strip below handles the rest.
                    for (; p0 + 16 <= plane; p0 += 16)
                    {
                        Transpose16(src + (long)o0 * plane + p0, plane, block);
                        for (var k = 0; k < 16; k++) Vector512.Load(block + k * 16).Store(image + (long)(p0 + k) * ld + o0);
                    }
                }
                for (var p = p0; p < plane; p++)
                {
                    var row = image + (long)p * ld + o0;
                    for (var o = 0; o < 16; o++) row[o] = o0 + o < count ? src[(long)(o0 + o) * plane + p] : 0f;
                }
            }
        }
    }

    /// <summary>Rows of packed weights one worker packs at a time.</summary>
    private const int PackRows = 64;

    /// <summary>
    /// Packs weights per group as [ci][t][o] with o padded to ld (zeros past the last channel). transpose: w belongs to
    /// the layer whose data gradient g is ([g.InChannels, g.OutChannels/G, KH, KW]) and is read as w′[o][i][t] =
    /// w[i][o][T − 1 − t] (per group).
    /// </summary>
    /// <remarks>
    /// Runs at every call (the weights change with every training step), so it must cost little next to the
    /// convolution: bands of rows spread over the workers, each in 16×16 register blocks (see <see cref="PackGroupColumns"/>).
    /// </remarks>
    private static void PackWeights(in ConvGeometry g, float[] w, bool transpose, float[] packed, int packedLength, int ld)
    {
        var geometry = g;
        var rows = g.InChannelsPerGroup * g.KernelHeight * g.KernelWidth;
        var bands = Conv2d.CeilDiv(rows, PackRows);
        // Moving a float costs far less than a multiply-add: small packs (ResNet-20's) stay on the calling thread.
        ConvSimd.For(g.Groups * bands, 0, (long)PackRows * ld / 8, (item, _) =>
        {
            var grp = item / bands;
            var k0 = item % bands * PackRows;
            fixed (float* pw = w, pp = packed)
            {
                PackGroupColumns(geometry, pw, transpose, grp, 0, k0, Math.Min(rows, k0 + PackRows), pp + (long)grp * packedLength, ld);
            }
        });
    }

    /// <summary>
    /// Packs rows [k0, k1) (k = ci·taps + t) of group grp's output channels [o0, o0 + ld) as dst[k·ld + j] = weight of
    /// channel o0 + j at (ci, t), zero for channels past the group's last (transpose: as in <see cref="PackWeights"/>).
    /// </summary>
    /// <remarks>
    /// Untransposed, this is a transpose of the group's [o][ci·t] matrix, done in 16×16 register blocks: element by
    /// element, consecutive reads lay a whole weight row apart (18 KB at 512 channels), and packing that way took half
    /// of a 512 -> 512 layer's forward time at 7×7 (5.6 of 11.5 ms, batch 8). Transposed, one input channel's weights
    /// are a cgo × taps block that stays in L1 while its rows fill.
    /// </remarks>
    private static void PackGroupColumns(in ConvGeometry g, float* w, bool transpose, int grp, int o0, int k0, int k1, float* dst, int ld)
    {
        int cgi = g.InChannelsPerGroup, cgo = g.OutChannelsPerGroup, taps = g.KernelHeight * g.KernelWidth;
        var rows = cgi * taps;
        var columns = Math.Clamp(cgo - o0, 0, ld);
        if (transpose)
        {
            var group = w + (long)grp * cgi * cgo * taps;
            for (var k = k0; k < k1; k++)
            {
                int ci = k / taps, t = k % taps;
                var from = group + ((long)ci * cgo + o0) * taps + taps - 1 - t;
                var row = dst + (long)k * ld;
                for (var j = 0; j < columns; j++) row[j] = from[(long)j * taps];
                if (ld > columns) new Span<float>(row + columns, ld - columns).Clear();
            }
            return;
        }
        var src = w + ((long)grp * cgo + o0) * rows;
        var block = stackalloc float[256];
        for (var kb = k0; kb < k1; kb += 16)
        {
            var kn = Math.Min(16, k1 - kb);
            for (var j0 = 0; j0 < columns; j0 += 16)
            {
                var jn = Math.Min(16, columns - j0);
                var from = src + (long)j0 * rows + kb;
                if (kn == 16 && jn == 16)
                {
                    Transpose16(from, rows, block);
                    for (var a = 0; a < 16; a++) Vector512.Load(block + a * 16).Store(dst + (long)(kb + a) * ld + j0);
                    continue;
                }
                for (var a = 0; a < kn; a++)
                {
                    for (var b = 0; b < jn; b++) dst[(long)(kb + a) * ld + j0 + b] = from[(long)b * rows + a];
                }
            }
            if (ld > columns)
            {
                for (var a = 0; a < kn; a++) new Span<float>(dst + (long)(kb + a) * ld + columns, ld - columns).Clear();
            }
        }
    }

    private static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;

    /// <summary>One image's zero-padded input plane: just the rows and columns some window reads.</summary>
    private readonly struct Canvas
    {
        private readonly int h, w, pt, pl, kh, kw, dh, dw;

        public Canvas(in ConvGeometry g)
        {
            h = g.InHeight;
            w = g.InWidth;
            pt = g.PadTop;
            pl = g.PadLeft;
            kh = g.KernelHeight;
            kw = g.KernelWidth;
            dh = g.DilationH;
            dw = g.DilationW;
            InPlane = h * w;
            Height = (g.OutHeight - 1) * g.StrideH + (kh - 1) * dh + 1;
            // The filter tile reads taps in threes, so the columns run up to the next multiple of three taps.
            Width = (g.OutWidth - 1) * g.StrideW + Math.Max((kw - 1) * dw, (RoundUp(kw, 3) - 1) * dw) + 1;
            Plane = RoundUp(Height * Width, 16);
        }

        public int InPlane { get; }
        public int Height { get; }
        public int Width { get; }
        public int Plane { get; }

        /// <summary>Tap offsets in a buffer whose rows are <paramref name="pitch"/> floats apart (the canvas's own: Width).</summary>
        public void TapOffsets(Span<int> offsets, int pitch)
        {
            for (var i = 0; i < kh; i++)
            {
                for (var j = 0; j < kw; j++) offsets[i * kw + j] = i * dh * pitch + j * dw;
            }
        }

        /// <summary>
        /// Writes canvas rows [r0, r1) of channels planes at x into planes stride floats apart at dst: input pixel
        /// (r − PadTop, c − PadLeft), or 0 outside the input. The floats past the last row of each plane are zeroed too.
        /// </summary>
        /// <remarks>
        /// Each canvas line is written as whole vectors whose lanes are loaded under a mask that keeps only input
        /// columns (masked-off lanes neither read nor fault), so padding costs nothing extra: a scalar loop over the
        /// pads and the tail of a 28-wide row took a fifth of a 16-channel forward pass.
        /// </remarks>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Fill(float* x, int channels, long stride, int r0, int r1, float* dst)
        {
            var left = Math.Min(pl, Width);
            var count = Math.Clamp(Width - pl, 0, w);
            int width = Width, inW = w, inH = h, top = pt, height = Height, plane = Plane;
            var vectors = (width + 15) / 16;
            var tail = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(width - (vectors - 1) * 16)).AsSingle();
            // The lanes that hold input columns are the same on every line: masks for the first few vectors once.
            const int KeptMasks = 8;
            var masks = stackalloc Vector512<float>[KeptMasks];
            for (var j = 0; j < Math.Min(vectors, KeptMasks); j++) masks[j] = ColumnMask(j, left, count);
            for (var c = 0; c < channels; c++)
            {
                var planeAt = dst + c * stride;
                var src = x + (long)c * InPlane;
                for (var r = r0; r < r1; r++)
                {
                    var line = planeAt + (long)r * width;
                    var ih = r - top;
                    if ((uint)ih >= (uint)inH)
                    {
                        ConvSimd.Zero(line, width);
                        continue;
                    }
                    // Lane k of vector j holds input column 16j + k − left when that lies in [0, count).
                    var row = src + (long)ih * inW - left;
                    for (var j = 0; j < vectors; j++)
                    {
                        var inside = j < KeptMasks ? masks[j] : ColumnMask(j, left, count);
                        var v = Avx512F.MaskLoad(row + 16 * j, inside, Vector512<float>.Zero);
                        if (j < vectors - 1) v.Store(line + 16 * j);
                        else Avx512F.MaskStore(line + 16 * j, tail, v);
                    }
                }
                if (r1 == height) ConvSimd.Zero(planeAt + (long)height * width, plane - height * width);
            }
        }

        /// <summary>Lanes of canvas vector j (columns 16j…16j + 15) that hold input columns 0…count − 1, shifted by left.</summary>
        private static Vector512<float> ColumnMask(int j, int left, int count)
        {
            var column = Vector512<int>.Indices + Vector512.Create(16 * j - left);
            return (Vector512.GreaterThanOrEqual(column, Vector512<int>.Zero) & Vector512.LessThan(column, Vector512.Create(count))).AsSingle();
        }
    }
}
