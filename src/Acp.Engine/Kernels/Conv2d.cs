using System.Buffers;
using System.Runtime.CompilerServices;

namespace Acp.Engine.Kernels;

/// <summary>
/// 2-D convolution (ONNX Conv: cross-correlation) over NCHW float buffers, forward and both backward passes, for any
/// group count, stride, asymmetric padding and dilation. Weights are <c>[OutChannels, InChannels/Groups, KH, KW]</c>.
/// Buffers may be longer than the geometry needs; only the prefix is read or written. Outputs are overwritten, never
/// accumulated into. Inputs and outputs must not overlap.
/// </summary>
/// <remarks>
/// <para>Paths, chosen per layer from the geometry alone (<see cref="Choose"/>):</para>
/// <list type="bullet">
/// <item>one input channel per group (depthwise, any channel multiplier): <see cref="ConvDepthwise"/>, a direct SIMD
/// kernel on padded, phase-split planes, except the forward pass of an ungrouped layer that the by-channel kernel
/// takes (a stem over one input channel);</item>
/// <item>AVX-512 machines, ≥ 16 output channels per group, ≥ 7 output columns, horizontal stride 1 or 2:
/// <see cref="ConvByChannel"/>, a register-blocked direct kernel vectorised over output channels (the ResNet layers);</item>
/// <item>other stride-1 layers with ≥ 8 output channels per group on AVX-512: <see cref="ConvDirect"/>, vectorised
/// over output positions;</item>
/// <item>everything else: im2col + <see cref="Gemm.Multiply"/> per group, on tiles that are either a band of output
/// rows of one image (large images) or several whole images side by side (small images, where one image alone makes
/// a GEMM too thin to run fast); a 1×1, stride-1, unpadded layer multiplies the input in place. Strided layers pack
/// from phase-split planes so every copy is contiguous.</item>
/// </list>
/// <para>Work is spread over images (or tiles), groups and, for small batches, row bands or channel blocks, each with
/// scratch rented once per worker. Every result is a function of the inputs and the geometry alone: no element is
/// summed in an order that depends on thread scheduling. The weight gradient reduces over the batch through a fixed
/// number of slots of consecutive images, each summed in order, then added in slot order.</para>
/// </remarks>
public static unsafe class Conv2d
{
    /// <summary>
    /// Target size in floats of one worker's column matrix. 256 Ki floats (1 MiB) keeps it and the GEMM's packed
    /// panels inside a 2 MiB L2 while leaving whole 28×28 images with 16 or 32 channels in one tile.
    /// </summary>
    private const int ColumnBudget = 256 * 1024;

    /// <summary>
    /// Columns (output pixels) a tile aims for when images are small: below a few hundred, GEMM time goes into
    /// packing and edge handling rather than multiply-adds (measured with OpenBLAS on 7×7 and 14×14 layers).
    /// </summary>
    private const int TargetColumns = 768;

    /// <summary>Upper bound on the per-slot partial weight gradients BackwardFilter keeps (floats, all slots).</summary>
    private const long SlotBudget = 4L * 1024 * 1024;

    /// <summary>Most partial weight-gradient slots BackwardFilter splits the batch into; fixed so results do not depend on the machine.</summary>
    private const int MaxSlots = 16;

    /// <summary>
    /// y = conv(x, w) + bias. x is <c>[N, C_in, H, W]</c>, y is <c>[N, C_out, OH, OW]</c>, bias (optional) is <c>[C_out]</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The geometry is invalid or a buffer is shorter than it requires.</exception>
    public static void Forward(ConvGeometry g, float[] x, float[] w, float[]? bias, float[] y) =>
        Forward(g, x, w, bias, y, ConvEpilogue.None);

    /// <summary>
    /// y = act(conv(x, w) + bias + residual) (see <see cref="ConvEpilogue"/>): the by-channel kernel applies the epilogue
    /// as it stores each tile; the other paths make one extra pass over y. The residual must not be y.
    /// </summary>
    internal static void Forward(ConvGeometry g, float[] x, float[] w, float[]? bias, float[] y, ConvEpilogue epilogue) =>
        Forward(g, x, w, bias, y, epilogue, ConvLayouts.Dense);

    /// <summary>
    /// Whether the forward pass of g runs through <see cref="ConvByChannel"/>, the one path that takes non-dense
    /// <see cref="ConvLayouts"/>.
    /// </summary>
    internal static bool ForwardRunsByChannel(in ConvGeometry g) =>
        !(ConvDepthwise.Applies(g) && !(g.Groups == 1 && ConvByChannel.Applies(g))) && Choose(g, filter: false) == Path.ByChannel;

    /// <summary>As above, with buffers laid out as <paramref name="layouts"/> says (only where <see cref="ForwardRunsByChannel"/>).</summary>
    internal static void Forward(ConvGeometry g, float[] x, float[] w, float[]? bias, float[] y, ConvEpilogue epilogue, ConvLayouts layouts)
    {
        g.Validate();
        // Non-dense buffers are addressed through pointers by their layouts: their sizes are checked against those.
        long Length(int channels, PlaneLayout? layout, int height, int width) => (long)g.Batch * channels * (layout?.Plane ?? height * width);
        Require(x, Length(g.InChannels, layouts.Input, g.InHeight, g.InWidth), nameof(x), layouts.Input is null ? "input N·C_in·H·W" : "input in its layout", g);
        Require(w, g.WeightLength, nameof(w), "weight C_out·C_in/G·KH·KW", g);
        if (bias is not null) Require(bias, g.OutChannels, nameof(bias), "bias C_out", g);
        Require(y, Length(g.OutChannels, layouts.Output, g.OutHeight, g.OutWidth), nameof(y), layouts.Output is null ? "output N·C_out·OH·OW" : "output in its layout", g);
        if (epilogue.Residual is { } residual)
        {
            Require(residual, Length(g.OutChannels, layouts.Residual, g.OutHeight, g.OutWidth), nameof(epilogue),
                layouts.Residual is null ? "residual N·C_out·OH·OW" : "residual in its layout", g);
            if (ReferenceEquals(residual, y)) throw new ArgumentException("The residual must not be the output buffer.", nameof(epilogue));
        }
        if (!layouts.IsDense && !ForwardRunsByChannel(g)) throw new ArgumentException($"Only the by-channel path takes non-dense layouts ({g}).", nameof(layouts));
        if (g.Batch == 0) return;

        // An ungrouped layer over one input channel (a stem over grey images) is formally depthwise, but its 16+
        // outputs per pixel suit the by-channel tile: 1->16 at 28x28 measured 1.95 ms there against 2.9 ms.
        if (ConvDepthwise.Applies(g) && !(g.Groups == 1 && ConvByChannel.Applies(g)))
        {
            ConvDepthwise.Forward(g, x, w, bias, y);
            epilogue.ApplyToOutput(y, g.Batch, g.OutChannels, g.OutHeight * g.OutWidth);
            return;
        }
        switch (Choose(g, filter: false))
        {
            case Path.Spatial:
                ConvDirect.Forward(g, x, w, bias, y);
                epilogue.ApplyToOutput(y, g.Batch, g.OutChannels, g.OutHeight * g.OutWidth);
                return;
            case Path.ByChannel:
                ConvByChannel.Forward(g, x, w, bias, y, epilogue, layouts);
                return;
        }
        ForwardGemm(g, x, w, bias, y);
        epilogue.ApplyToOutput(y, g.Batch, g.OutChannels, g.OutHeight * g.OutWidth);
    }

    /// <summary>The im2col + GEMM forward path (any geometry).</summary>
    private static void ForwardGemm(ConvGeometry g, float[] x, float[] w, float[]? bias, float[] y)
    {

        var p = new Plan(g);
        var tile = p.ChooseTile(g.Batch, g.Groups, g.Batch, allowBands: true);
        var tiles = CeilDiv(g.Batch, tile.Images);
        var bands = CeilDiv(p.OutH, tile.Rows);
        var cols = tile.Images * tile.Rows * p.OutW;
        var direct = p.Direct && tile.Images == 1;
        var colLength = direct ? 0 : p.K * cols;
        var outLength = tile.Images > 1 ? p.Cgo * cols : 0;
        var phaseLength = p.Columns.Split ? p.Cgi * p.Columns.ChannelLength : 0;
        var perItem = (long)p.Cgo * p.K * cols;

        ConvSimd.For(tiles * g.Groups * bands, colLength + outLength + phaseLength, perItem, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (item, scratch) =>
        {
            var band = item % bands;
            var grp = item / bands % g.Groups;
            var n0 = item / bands / g.Groups * tile.Images;
            var n1 = Math.Min(g.Batch, n0 + tile.Images);
            var weights = w.AsSpan(grp * p.Cgo * p.K, p.Cgo * p.K);
            if (tile.Images == 1)
            {
                var oh0 = band * tile.Rows;
                var oh1 = Math.Min(p.OutH, oh0 + tile.Rows);
                var nb = (oh1 - oh0) * p.OutW;
                var yOffset = (int)(p.OutputOffset(n0, grp) + oh0 * p.OutW);
                var c = y.AsSpan(yOffset, (p.Cgo - 1) * p.OutPlane + nb);
                if (direct)
                {
                    // 1×1, stride 1, no padding: the input planes already are the column matrix (OH = H, OW = W).
                    var b = x.AsSpan((int)p.InputOffset(n0, grp) + oh0 * p.OutW, (p.K - 1) * p.InPlane + nb);
                    Gemm.Multiply(false, false, p.Cgo, nb, p.K, 1f, weights, p.K, b, p.InPlane, 0f, c, p.OutPlane);
                }
                else
                {
                    fixed (float* px = x, ps = scratch)
                    {
                        p.PackImage(px + p.InputOffset(n0, grp), oh0, oh1, ps, nb, ps + colLength + outLength);
                    }
                    Gemm.Multiply(false, false, p.Cgo, nb, p.K, 1f, weights, p.K, scratch.AsSpan(0, p.K * nb), nb, 0f, c, p.OutPlane);
                }
                if (bias is not null)
                {
                    fixed (float* py = y)
                    {
                        for (var o = 0; o < p.Cgo; o++)
                        {
                            var row = py + yOffset + (long)o * p.OutPlane;
                            ConvSimd.CopyAdd(row, bias[grp * p.Cgo + o], row, nb);
                        }
                    }
                }
                return;
            }

            // Several whole images side by side: columns [i·P, (i+1)·P) belong to image n0 + i.
            var count = (n1 - n0) * p.OutPlane;
            fixed (float* px = x, py = y, ps = scratch)
            {
                for (var n = n0; n < n1; n++)
                {
                    p.PackImage(px + p.InputOffset(n, grp), 0, p.OutH, ps + (n - n0) * p.OutPlane, count, ps + colLength + outLength);
                }
                Gemm.Multiply(false, false, p.Cgo, count, p.K, 1f, weights, p.K, scratch.AsSpan(0, p.K * count), count, 0f,
                    scratch.AsSpan(colLength, p.Cgo * count), count);
                for (var n = n0; n < n1; n++)
                {
                    for (var o = 0; o < p.Cgo; o++)
                    {
                        var src = ps + colLength + (long)o * count + (n - n0) * p.OutPlane;
                        ConvSimd.CopyAdd(src, bias is null ? 0f : bias[grp * p.Cgo + o], py + p.OutputOffset(n, grp) + (long)o * p.OutPlane, p.OutPlane);
                    }
                }
            }
        });
    }

    /// <summary>
    /// dx = ∂L/∂x given dy = ∂L/∂y: the transposed convolution of dy with w. dy is <c>[N, C_out, OH, OW]</c>, dx is
    /// <c>[N, C_in, H, W]</c> and is overwritten (input pixels no window reads get 0).
    /// </summary>
    /// <exception cref="ArgumentException">The geometry is invalid or a buffer is shorter than it requires.</exception>
    public static void BackwardData(ConvGeometry g, float[] dy, float[] w, float[] dx)
    {
        g.Validate();
        Require(dy, g.OutputLength, nameof(dy), "output gradient N·C_out·OH·OW", g);
        Require(w, g.WeightLength, nameof(w), "weight C_out·C_in/G·KH·KW", g);
        Require(dx, g.InputLength, nameof(dx), "input gradient N·C_in·H·W", g);
        if (g.Batch == 0) return;

        if (ConvDepthwise.Applies(g))
        {
            ConvDepthwise.BackwardData(g, dy, w, dx);
            return;
        }
        // A stride-1 layer's data gradient is itself a stride-1 convolution of dy (kernel flipped and transposed,
        // complementary padding), which the direct kernels run as a forward pass without any scatter.
        if (ConvDirect.DataGradientGeometry(g) is { } transposed)
        {
            switch (Choose(transposed, filter: false))
            {
                case Path.Spatial:
                    ConvDirect.BackwardData(transposed, dy, w, dx);
                    return;
                case Path.ByChannel:
                    ConvByChannel.BackwardData(transposed, dy, w, dx);
                    return;
            }
        }

        var p = new Plan(g);
        // Output-row bands scatter into overlapping input rows, so bands run in sequence inside one item; when the
        // batch is too small to occupy the workers, items split the input channels instead, as each block owns its dx
        // planes outright.
        var tile = p.ChooseTile(g.Batch, g.Groups, g.Batch, allowBands: false);
        var tiles = CeilDiv(g.Batch, tile.Images);
        var blocks = tile.Images > 1 ? 1 : Math.Clamp(CeilDiv(2 * ConvSimd.Workers, tiles * g.Groups), 1, p.Cgi);
        var blockChannels = CeilDiv(p.Cgi, blocks);
        blocks = CeilDiv(p.Cgi, blockChannels);
        var taps = g.KernelHeight * g.KernelWidth;
        var cols = tile.Images * tile.Rows * p.OutW;
        var direct = p.Direct && tile.Images == 1;
        var colLength = direct ? 0 : blockChannels * taps * cols;
        var dyLength = tile.Images > 1 ? p.Cgo * cols : 0;
        var phaseLength = p.Columns.Split ? blockChannels * p.Columns.ChannelLength : 0;
        var perItem = (long)blockChannels * taps * p.Cgo * cols * (tile.Images == 1 ? CeilDiv(p.OutH, tile.Rows) : 1);

        ConvSimd.For(tiles * g.Groups * blocks, colLength + dyLength + phaseLength, perItem, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (item, scratch) =>
        {
            var block = item % blocks;
            var grp = item / blocks % g.Groups;
            var n0 = item / blocks / g.Groups * tile.Images;
            var n1 = Math.Min(g.Batch, n0 + tile.Images);
            var c0 = block * blockChannels;
            var c1 = Math.Min(p.Cgi, c0 + blockChannels);
            var rows = (c1 - c0) * taps;
            // op(A) = W_gᵀ restricted to this block's rows of the column matrix.
            var a = w.AsSpan(grp * p.Cgo * p.K + c0 * taps, (p.Cgo - 1) * p.K + rows);
            var dxOffset = p.InputOffset(n0, grp) + (long)c0 * p.InPlane;
            if (direct)
            {
                var b = dy.AsSpan((int)p.OutputOffset(n0, grp), p.Cgo * p.OutPlane);
                Gemm.Multiply(true, false, rows, p.OutPlane, p.Cgo, 1f, a, p.K, b, p.OutPlane, 0f,
                    dx.AsSpan((int)dxOffset, (c1 - c0) * p.InPlane), p.InPlane);
                return;
            }

            fixed (float* pdx = dx, pdy = dy, ps = scratch)
            {
                var phase = ps + colLength + dyLength;
                if (tile.Images == 1)
                {
                    var target = p.Columns.Split ? phase : pdx + dxOffset;
                    ConvSimd.Zero(target, (c1 - c0) * p.Columns.ChannelLength);
                    for (var oh0 = 0; oh0 < p.OutH; oh0 += tile.Rows)
                    {
                        var oh1 = Math.Min(p.OutH, oh0 + tile.Rows);
                        var nb = (oh1 - oh0) * p.OutW;
                        var b = dy.AsSpan((int)p.OutputOffset(n0, grp) + oh0 * p.OutW, (p.Cgo - 1) * p.OutPlane + nb);
                        Gemm.Multiply(true, false, rows, nb, p.Cgo, 1f, a, p.K, b, p.OutPlane, 0f, scratch.AsSpan(0, rows * nb), nb);
                        p.Columns.Unpack(ps, nb, c1 - c0, oh0, oh1, target);
                    }
                    if (p.Columns.Split) p.Columns.MergePhases(phase, c1 - c0, pdx + dxOffset);
                    return;
                }

                // Several whole images: gather their dy side by side, one GEMM, then scatter each image's columns.
                var count = (n1 - n0) * p.OutPlane;
                var gathered = ps + colLength;
                for (var n = n0; n < n1; n++)
                {
                    for (var o = 0; o < p.Cgo; o++)
                    {
                        ConvSimd.Copy(pdy + p.OutputOffset(n, grp) + (long)o * p.OutPlane, gathered + (long)o * count + (n - n0) * p.OutPlane, p.OutPlane);
                    }
                }
                Gemm.Multiply(true, false, rows, count, p.Cgo, 1f, a, p.K, scratch.AsSpan(colLength, p.Cgo * count), count, 0f,
                    scratch.AsSpan(0, rows * count), count);
                for (var n = n0; n < n1; n++)
                {
                    var image = pdx + p.InputOffset(n, grp) + (long)c0 * p.InPlane;
                    var columns = ps + (n - n0) * p.OutPlane;
                    if (p.Direct)
                    {
                        for (var c = 0; c < c1 - c0; c++) ConvSimd.Copy(columns + (long)c * count, image + (long)c * p.InPlane, p.InPlane);
                        continue;
                    }
                    var target = p.Columns.Split ? phase : image;
                    ConvSimd.Zero(target, (c1 - c0) * p.Columns.ChannelLength);
                    p.Columns.Unpack(columns, count, c1 - c0, 0, p.OutH, target);
                    if (p.Columns.Split) p.Columns.MergePhases(phase, c1 - c0, image);
                }
            }
        });
    }

    /// <summary>
    /// dw = ∂L/∂w and, when dbias is given, dbias = ∂L/∂bias, from the forward input x and dy = ∂L/∂y, summed over
    /// the batch. Both are overwritten. The batch is split into a fixed number of slots (a function of the geometry
    /// only); each slot sums its images in order into its own partial, and the partials are added in slot order, so
    /// the result has the same bits on every run.
    /// </summary>
    /// <exception cref="ArgumentException">The geometry is invalid or a buffer is shorter than it requires.</exception>
    public static void BackwardFilter(ConvGeometry g, float[] x, float[] dy, float[] dw, float[]? dbias)
    {
        g.Validate();
        Require(x, g.InputLength, nameof(x), "input N·C_in·H·W", g);
        Require(dy, g.OutputLength, nameof(dy), "output gradient N·C_out·OH·OW", g);
        Require(dw, g.WeightLength, nameof(dw), "weight gradient C_out·C_in/G·KH·KW", g);
        if (dbias is not null) Require(dbias, g.OutChannels, nameof(dbias), "bias gradient C_out", g);

        if (dbias is not null) BiasGradient(g.Batch, g.OutChannels, g.OutHeight * g.OutWidth, dy, dbias);
        if (g.Batch == 0)
        {
            dw.AsSpan(0, (int)g.WeightLength).Clear();
            return;
        }

        if (ConvDepthwise.Applies(g))
        {
            ConvDepthwise.BackwardFilter(g, x, dy, dw);
            return;
        }
        switch (Choose(g, filter: true))
        {
            case Path.Spatial:
                ConvDirect.BackwardFilter(g, x, dy, dw);
                return;
            case Path.ByChannel:
                ConvByChannel.BackwardFilter(g, x, dy, dw);
                return;
        }

        var p = new Plan(g);
        var weightLength = (int)g.WeightLength;
        var slots = (int)Math.Clamp(Math.Min(Math.Min(g.Batch, MaxSlots), SlotBudget / weightLength), 1, g.Batch);
        // Tiles never straddle two slots, so a tile holds at most the smallest slot's images.
        var tile = p.ChooseTile(g.Batch / slots, g.Groups * slots, g.Batch, allowBands: false);
        // With too few slots × groups to occupy the workers (small batches, huge layers), also split each group's
        // output channels into blocks; each block re-packs its own columns, trading im2col work for parallelism.
        var blocks = Math.Clamp(CeilDiv(2 * ConvSimd.Workers, slots * g.Groups), 1, Math.Max(1, p.Cgo / 8));
        var blockChannels = CeilDiv(p.Cgo, blocks);
        blocks = CeilDiv(p.Cgo, blockChannels);
        var cols = tile.Images * tile.Rows * p.OutW;
        var direct = p.Direct && tile.Images == 1;
        var colLength = direct ? 0 : p.K * cols;
        var dyLength = tile.Images > 1 ? blockChannels * cols : 0;
        var phaseLength = p.Columns.Split ? p.Cgi * p.Columns.ChannelLength : 0;
        var perItem = (long)CeilDiv(g.Batch, slots) * blockChannels * p.K * p.OutPlane;
        // With several slots the partials are dwᵀ per group, [K, C_out/G]: the GEMM then has the long K = C_in/G·KH·KW
        // side as its rows, which OpenBLAS runs markedly faster than the [C_out/G, K] orientation, and the final sum
        // transposes back. A single slot (huge layers, tiny batches) writes dw directly instead of renting its size again.
        var transposed = slots > 1;
        var partials = transposed ? ArrayPool<float>.Shared.Rent(slots * weightLength) : dw;
        try
        {
            ConvSimd.For(slots * g.Groups * blocks, colLength + dyLength + phaseLength, perItem, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (item, scratch) =>
            {
                var block = item % blocks;
                var grp = item / blocks % g.Groups;
                var slot = item / blocks / g.Groups;
                var co0 = block * blockChannels;
                var co1 = Math.Min(p.Cgo, co0 + blockChannels);
                // Contiguous image ranges per slot, fixed by (batch, slots) alone.
                var first = (int)((long)slot * g.Batch / slots);
                var last = (int)((long)(slot + 1) * g.Batch / slots);
                var c = transposed
                    ? partials.AsSpan(slot * weightLength + grp * p.K * p.Cgo + co0, (p.K - 1) * p.Cgo + co1 - co0)
                    : dw.AsSpan((grp * p.Cgo + co0) * p.K, (co1 - co0) * p.K);
                var beta = 0f;

                fixed (float* px = x, pdy = dy, ps = scratch)
                {
                    var phase = ps + colLength + dyLength;
                    for (var n0 = first; n0 < last; n0 += tile.Images)
                    {
                        var n1 = Math.Min(last, n0 + tile.Images);
                        if (tile.Images == 1)
                        {
                            for (var oh0 = 0; oh0 < p.OutH; oh0 += tile.Rows)
                            {
                                var oh1 = Math.Min(p.OutH, oh0 + tile.Rows);
                                var nb = (oh1 - oh0) * p.OutW;
                                var b = dy.AsSpan((int)(p.OutputOffset(n0, grp) + (long)co0 * p.OutPlane) + oh0 * p.OutW, (co1 - co0 - 1) * p.OutPlane + nb);
                                if (direct)
                                {
                                    var a = x.AsSpan((int)p.InputOffset(n0, grp) + oh0 * p.OutW, (p.K - 1) * p.InPlane + nb);
                                    AccumulateFilter(transposed, p, co1 - co0, a, p.InPlane, b, p.OutPlane, nb, ref beta, c);
                                }
                                else
                                {
                                    p.PackImage(px + p.InputOffset(n0, grp), oh0, oh1, ps, nb, phase);
                                    AccumulateFilter(transposed, p, co1 - co0, scratch.AsSpan(0, p.K * nb), nb, b, p.OutPlane, nb, ref beta, c);
                                }
                            }
                            continue;
                        }

                        var count = (n1 - n0) * p.OutPlane;
                        var gathered = ps + colLength;
                        for (var n = n0; n < n1; n++)
                        {
                            p.PackImage(px + p.InputOffset(n, grp), 0, p.OutH, ps + (n - n0) * p.OutPlane, count, phase);
                            for (var o = co0; o < co1; o++)
                            {
                                ConvSimd.Copy(pdy + p.OutputOffset(n, grp) + (long)o * p.OutPlane, gathered + (long)(o - co0) * count + (n - n0) * p.OutPlane, p.OutPlane);
                            }
                        }
                        AccumulateFilter(transposed, p, co1 - co0, scratch.AsSpan(0, p.K * count), count, scratch.AsSpan(colLength, (co1 - co0) * count), count, count, ref beta, c);
                    }
                }
            });

            if (transposed) SumSlots(partials, slots, weightLength, g.Groups, p.K, p.Cgo, dw);
        }
        finally
        {
            if (transposed) ArrayPool<float>.Shared.Return(partials);
        }
    }

    /// <summary>
    /// c (+)= columns · gradᵀ into a transposed partial ([K, C_out/G] rows, ldc C_out/G), or grad · columnsᵀ straight
    /// into dw ([C_out/G, K]); columns is K × length, grad is channels × length. The first call of an item overwrites.
    /// </summary>
    private static void AccumulateFilter(bool transposed, in Plan p, int channels, ReadOnlySpan<float> columns, int columnStride,
        ReadOnlySpan<float> grad, int gradStride, int length, ref float beta, Span<float> c)
    {
        if (transposed) Gemm.Multiply(false, true, p.K, channels, length, 1f, columns, columnStride, grad, gradStride, beta, c, p.Cgo);
        else Gemm.Multiply(false, true, channels, p.K, length, 1f, grad, gradStride, columns, columnStride, beta, c, p.K);
        beta = 1f;
    }

    /// <summary>
    /// dw[(g·Cgo + o)·K + k] = Σ_s partials[s·length + g·K·Cgo + k·Cgo + o], s ascending: each element's sum has a fixed
    /// order, so splitting the elements across threads keeps the bits.
    /// </summary>
    private static void SumSlots(float[] partials, int slots, int length, int groups, int k, int cgo, float[] dw)
    {
        ConvSimd.For(groups * cgo, 0, (long)slots * k, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (row, _) =>
        {
            var grp = row / cgo;
            var o = row % cgo;
            fixed (float* pp = partials, pd = dw)
            {
                var dst = pd + (long)row * k;
                var src = pp + (long)grp * k * cgo + o;
                for (var i = 0; i < k; i++) dst[i] = src[(long)i * cgo];
                for (var s = 1; s < slots; s++)
                {
                    var part = src + (long)s * length;
                    for (var i = 0; i < k; i++) dst[i] += part[(long)i * cgo];
                }
            }
        });
    }

    /// <summary>dbias[c] = Σ_n Σ_p dy[n, c, p], images summed in order for determinism.</summary>
    internal static void BiasGradient(int batch, int channels, int plane, float[] dy, float[] dbias)
    {
        ConvSimd.For(channels, 0, (long)batch * plane, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (c, _) =>
        {
            var total = 0f;
            fixed (float* p = dy)
            {
                for (var n = 0; n < batch; n++) total += ConvSimd.Sum(p + ((long)n * channels + c) * plane, plane);
            }
            dbias[c] = total;
        });
    }

    /// <summary>dw[i] += Σ_s partials[s·length + i], s ascending: elementwise, so splitting i across threads keeps the bits.</summary>
    internal static void AddSlots(float[] dw, float[] partials, int count, int length)
    {
        const int Chunk = 16 * 1024;
        ConvSimd.For(CeilDiv(length, Chunk), 0, (long)Chunk * count, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (chunk, _) =>
        {
            var start = chunk * Chunk;
            var n = Math.Min(Chunk, length - start);
            fixed (float* pd = dw, pp = partials)
            {
                for (var s = 0; s < count; s++) ConvSimd.Add(pp + (long)s * length + start, pd + start, n);
            }
        });
    }

    internal static int CeilDiv(int a, int b) => (a + b - 1) / b;

    /// <summary>The kernels a (non-depthwise) layer can run on.</summary>
    internal enum Path
    {
        /// <summary>im2col + GEMM: any geometry.</summary>
        Gemm,

        /// <summary><see cref="ConvDirect"/>: stride 1, vectorised over output positions.</summary>
        Spatial,

        /// <summary><see cref="ConvByChannel"/>: vectorised over output channels.</summary>
        ByChannel,
    }

    /// <summary>
    /// Forces a path on the calling thread (where one applies; otherwise GEMM), so tests can run every path on every
    /// geometry without disturbing kernels called from other threads.
    /// </summary>
    [ThreadStatic]
    internal static Path? ForcedPath;

    /// <summary>
    /// Picks the kernel for g. The by-channel kernel wastes no multiply-adds and measured fastest wherever it applies
    /// (≥ 16 output channels per group, ≥ 7 output columns, horizontal stride 1 or 2), on 28×28 layers too; the
    /// spatial kernel covers narrower stride-1 layers (8–15 output channels); GEMM covers everything else.
    /// </summary>
    internal static Path Choose(in ConvGeometry g, bool filter)
    {
        if (ForcedPath is { } forced)
        {
            if (forced == Path.Spatial && ConvDirect.Applies(g)) return forced;
            if (forced == Path.ByChannel && (filter ? ConvByChannel.FilterApplies(g) : ConvByChannel.Applies(g))) return forced;
            return Path.Gemm;
        }
        if (filter ? ConvByChannel.FilterApplies(g) : ConvByChannel.Applies(g)) return Path.ByChannel;
        if (ConvDirect.Applies(g)) return Path.Spatial;
        return Path.Gemm;
    }

    internal static void Require(float[] buffer, long needed, string name, string what, in ConvGeometry g)
    {
        ArgumentNullException.ThrowIfNull(buffer, name);
        if (buffer.Length < needed)
        {
            throw new ArgumentException($"{name} has {buffer.Length} elements but the {what} needs {needed} ({g}).", name);
        }
    }

    /// <summary>How much of the batch one work item's GEMM covers: whole images side by side, or a band of one image's rows.</summary>
    private readonly record struct Tile(int Images, int Rows);

    /// <summary>Sizes derived once per call from a validated geometry.</summary>
    private readonly struct Plan
    {
        public Plan(in ConvGeometry g)
        {
            Cgi = g.InChannelsPerGroup;
            Cgo = g.OutChannelsPerGroup;
            K = Cgi * g.KernelHeight * g.KernelWidth;
            OutH = g.OutHeight;
            OutW = g.OutWidth;
            InPlane = g.InHeight * g.InWidth;
            OutPlane = OutH * OutW;
            InChannels = g.InChannels;
            OutChannels = g.OutChannels;
            Direct = g.KernelHeight == 1 && g.KernelWidth == 1 && g.StrideH == 1 && g.StrideW == 1 &&
                g.PadTop == 0 && g.PadLeft == 0 && g.PadBottom == 0 && g.PadRight == 0;
            Columns = new Im2Col(g);
        }

        public int Cgi { get; }
        public int Cgo { get; }
        public int K { get; }
        public int OutH { get; }
        public int OutW { get; }
        public int InPlane { get; }
        public int OutPlane { get; }
        public int InChannels { get; }
        public int OutChannels { get; }
        public bool Direct { get; }
        public Im2Col Columns { get; }

        public long InputOffset(int n, int grp) => ((long)n * InChannels + grp * Cgi) * InPlane;

        public long OutputOffset(int n, int grp) => ((long)n * OutChannels + grp * Cgo) * OutPlane;

        /// <summary>
        /// Picks the tile: whole images side by side (at most maxImages) when one image has fewer output pixels than
        /// a GEMM wants, otherwise bands of rows of one image sized to the column budget. Fewer images per tile, or
        /// (when allowed) thinner bands, when the resulting items would not occupy the workers.
        /// </summary>
        public Tile ChooseTile(int maxImages, int otherItems, int batch, bool allowBands)
        {
            var perImage = (long)K * OutPlane;
            var wanted = 2 * ConvSimd.Workers;
            if (OutPlane * 2 <= TargetColumns && maxImages > 1)
            {
                var images = (int)Math.Clamp(Math.Min(TargetColumns / OutPlane, ColumnBudget / Math.Max(1, perImage)), 1, maxImages);
                while (images > 1 && (long)CeilDiv(batch, images) * otherItems < wanted) images--;
                if (images > 1) return new Tile(images, OutH);
            }

            var rows = Direct ? OutH : Math.Clamp(ColumnBudget / Math.Max(1, K * OutW), 1, OutH);
            if (allowBands && (long)batch * otherItems * CeilDiv(OutH, rows) < wanted)
            {
                var bands = Math.Min(OutH, CeilDiv(wanted, batch * otherItems));
                rows = Math.Min(rows, CeilDiv(OutH, bands));
            }
            return new Tile(1, rows);
        }

        /// <summary>
        /// Packs output rows [oh0, oh1) of one image-group at x into col (row stride ld), going through phase planes
        /// in the phase scratch when the layer is strided.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void PackImage(float* x, int oh0, int oh1, float* col, int ld, float* phase)
        {
            if (Direct)
            {
                // Unit 1×1 layers only reach here when several images share a GEMM: the columns are the planes.
                var n = (oh1 - oh0) * OutW;
                for (var c = 0; c < Cgi; c++) ConvSimd.Copy(x + (long)c * InPlane + oh0 * OutW, col + (long)c * ld, n);
                return;
            }
            if (Columns.Split)
            {
                Columns.InputRows(oh0, oh1, out var ih0, out var ih1);
                Columns.SplitPhases(x, Cgi, ih0, ih1, phase);
                Columns.Pack(phase, Cgi, oh0, oh1, col, ld);
                return;
            }
            Columns.Pack(x, Cgi, oh0, oh1, col, ld);
        }
    }
}
