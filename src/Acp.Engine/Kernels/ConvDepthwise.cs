using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Acp.Engine.Kernels;

/// <summary>
/// Direct convolution for layers with one input channel per group (depthwise, with any channel multiplier m =
/// C_out / C_in, which includes a dense layer over a single-channel image). im2col would turn these into GEMMs with
/// K = KH·KW, far too thin to pay for the copy; instead each input plane is copied once into a zero-padded scratch
/// plane whose columns are split by phase (column mod stride), so that for every tap the input pixels under a run of
/// consecutive outputs are consecutive in memory — whatever the stride — and the taps become vector FMAs.
/// </summary>
internal static unsafe class ConvDepthwise
{
    /// <summary>Most partial slots the filter gradient splits the batch into; with few channels there is no other parallelism.</summary>
    private const int MaxSlots = 16;

    /// <summary>Whether the geometry has one input channel per group.</summary>
    public static bool Applies(in ConvGeometry g) => g.InChannelsPerGroup == 1;

    /// <summary>y = conv(x) + bias, one (image, input channel) plane and its m outputs per work item.</summary>
    public static void Forward(ConvGeometry g, float[] x, float[] w, float[]? bias, float[] y)
    {
        var layout = new Layout(g);
        var m = g.OutChannelsPerGroup;
        var taps = g.KernelHeight * g.KernelWidth;
        var outPlane = layout.OutH * layout.OutW;
        ConvSimd.For(g.Batch * g.InChannels, layout.Length, (long)m * taps * outPlane, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (item, scratch) =>
        {
            var n = item / g.InChannels;
            var ci = item % g.InChannels;
            Span<int> offsets = taps <= 1024 ? stackalloc int[taps] : new int[taps];
            layout.TapOffsets(g, offsets);
            fixed (float* px = x, pw = w, py = y, xp = scratch)
            fixed (int* offs = offsets)
            {
                layout.Fill(g, px + ((long)n * g.InChannels + ci) * layout.InPlane, xp);
                for (var j = 0; j < m; j++)
                {
                    var co = ci * m + j;
                    var b = bias is null ? 0f : bias[co];
                    var wt = pw + (long)co * taps;
                    var yPlane = py + ((long)n * g.OutChannels + co) * outPlane;
                    for (var oh = 0; oh < layout.OutH; oh++)
                    {
                        ForwardRow(xp + (long)oh * g.StrideH * layout.RowStride, offs, wt, taps, b, yPlane + (long)oh * layout.OutW, layout.OutW);
                    }
                }
            }
        });
    }

    /// <summary>dx: the forward kernel on dy with the kernel flipped when stride is 1 and m = 1 (gather), else a scatter of w·dy rows.</summary>
    public static void BackwardData(ConvGeometry g, float[] dy, float[] w, float[] dx)
    {
        int spanH = g.DilationH * (g.KernelHeight - 1), spanW = g.DilationW * (g.KernelWidth - 1);
        if (g.StrideH == 1 && g.StrideW == 1 && g.OutChannelsPerGroup == 1 &&
            g.PadTop <= spanH && g.PadBottom <= spanH && g.PadLeft <= spanW && g.PadRight <= spanW)
        {
            // Stride 1, one output per input channel: dx is dy correlated with the flipped kernel under the
            // complementary padding, which the forward kernel computes in registers (gather) rather than by
            // read-modify-writing every dx row once per tap (scatter).
            var transposed = new ConvGeometry(g.Batch, g.OutChannels, g.OutHeight, g.OutWidth, g.InChannels, g.KernelHeight, g.KernelWidth,
                1, 1, spanH - g.PadTop, spanW - g.PadLeft, spanH - g.PadBottom, spanW - g.PadRight, g.DilationH, g.DilationW, g.Groups);
            var kernel = g.KernelHeight * g.KernelWidth;
            var flipped = System.Buffers.ArrayPool<float>.Shared.Rent(g.OutChannels * kernel);
            try
            {
                for (var c = 0; c < g.OutChannels; c++)
                {
                    for (var t = 0; t < kernel; t++) flipped[c * kernel + kernel - 1 - t] = w[c * kernel + t];
                }
                Forward(transposed, dy, flipped, null, dx);
            }
            finally
            {
                System.Buffers.ArrayPool<float>.Shared.Return(flipped);
            }
            return;
        }

        var layout = new Layout(g);
        var m = g.OutChannelsPerGroup;
        var taps = g.KernelHeight * g.KernelWidth;
        var outPlane = layout.OutH * layout.OutW;
        ConvSimd.For(g.Batch * g.InChannels, layout.Length, (long)m * taps * outPlane, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (item, scratch) =>
        {
            var n = item / g.InChannels;
            var ci = item % g.InChannels;
            Span<int> offsets = taps <= 1024 ? stackalloc int[taps] : new int[taps];
            layout.TapOffsets(g, offsets);
            fixed (float* pdy = dy, pw = w, pdx = dx, dxp = scratch)
            fixed (int* offs = offsets)
            {
                ConvSimd.Zero(dxp, layout.Length);
                // Scatter form: each output row adds w[t]·dy_row into the padded plane at tap t's offset. The phase
                // split makes every such run contiguous, so these are plain AXPYs for any stride.
                for (var j = 0; j < m; j++)
                {
                    var co = ci * m + j;
                    var wt = pw + (long)co * taps;
                    var dyPlane = pdy + ((long)n * g.OutChannels + co) * outPlane;
                    for (var oh = 0; oh < layout.OutH; oh++)
                    {
                        var dst = dxp + (long)oh * g.StrideH * layout.RowStride;
                        var src = dyPlane + (long)oh * layout.OutW;
                        for (var t = 0; t < taps; t++) ConvSimd.Axpy(wt[t], src, dst + offs[t], layout.OutW);
                    }
                }
                layout.Extract(g, dxp, pdx + ((long)n * g.InChannels + ci) * layout.InPlane);
            }
        });
    }

    /// <summary>dw (the caller does dbias): per-tap dot products, summed over a fixed partition of the batch into slots.</summary>
    public static void BackwardFilter(ConvGeometry g, float[] x, float[] dy, float[] dw)
    {
        var layout = new Layout(g);
        var m = g.OutChannelsPerGroup;
        var taps = g.KernelHeight * g.KernelWidth;
        var outPlane = layout.OutH * layout.OutW;
        var weightLength = (int)g.WeightLength;
        // Slots depend on the geometry only (not on the machine), so the summation order, and the bits, are fixed.
        var slots = Math.Clamp(Conv2d.CeilDiv(32, g.InChannels), 1, Math.Min(g.Batch, MaxSlots));
        var partials = slots > 1 ? System.Buffers.ArrayPool<float>.Shared.Rent((slots - 1) * weightLength) : null;
        try
        {
            ConvSimd.For(g.InChannels * slots, layout.Length, (long)Conv2d.CeilDiv(g.Batch, slots) * m * taps * outPlane, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (item, scratch) =>
            {
                var ci = item / slots;
                var slot = item % slots;
                var n0 = (int)((long)slot * g.Batch / slots);
                var n1 = (int)((long)(slot + 1) * g.Batch / slots);
                Span<int> offsets = taps <= 1024 ? stackalloc int[taps] : new int[taps];
                layout.TapOffsets(g, offsets);
                var target = slot == 0 ? dw : partials!;
                var targetOffset = slot == 0 ? 0 : (slot - 1) * weightLength;
                fixed (float* px = x, pdy = dy, pt = target, xp = scratch)
                fixed (int* offs = offsets)
                {
                    ConvSimd.Zero(pt + targetOffset + (long)ci * m * taps, m * taps);
                    for (var n = n0; n < n1; n++)
                    {
                        layout.Fill(g, px + ((long)n * g.InChannels + ci) * layout.InPlane, xp);
                        for (var j = 0; j < m; j++)
                        {
                            var co = ci * m + j;
                            var dyPlane = pdy + ((long)n * g.OutChannels + co) * outPlane;
                            var dwt = pt + targetOffset + (long)co * taps;
                            for (var t = 0; t < taps; t++)
                            {
                                dwt[t] += TapDot(xp + offs[t], g.StrideH * layout.RowStride, dyPlane, layout.OutW, layout.OutH);
                            }
                        }
                    }
                }
            });
            if (partials is not null) Conv2d.AddSlots(dw, partials, slots - 1, weightLength);
        }
        finally
        {
            if (partials is not null) System.Buffers.ArrayPool<float>.Shared.Return(partials);
        }
    }

    /// <summary>
    /// One output row: out[o] = bias + Σ_t w[t]·row[offs[t] + o]. The last vector overlaps the previous one instead
    /// of falling back to scalars; it recomputes the same values, so the overlap is harmless.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForwardRow(float* row, int* offs, float* w, int taps, float bias, float* output, int width)
    {
        if (Vector512.IsHardwareAccelerated && width >= Vector512<float>.Count)
        {
            var last = width - Vector512<float>.Count;
            for (var o = 0; ; o += Vector512<float>.Count)
            {
                if (o > last) o = last;
                var acc = Vector512.Create(bias);
                for (var t = 0; t < taps; t++) acc = Vector512.MultiplyAddEstimate(Vector512.Load(row + offs[t] + o), Vector512.Create(w[t]), acc);
                acc.Store(output + o);
                if (o == last) return;
            }
        }
        if (Vector256.IsHardwareAccelerated && width >= Vector256<float>.Count)
        {
            var last = width - Vector256<float>.Count;
            for (var o = 0; ; o += Vector256<float>.Count)
            {
                if (o > last) o = last;
                var acc = Vector256.Create(bias);
                for (var t = 0; t < taps; t++) acc = Vector256.MultiplyAddEstimate(Vector256.Load(row + offs[t] + o), Vector256.Create(w[t]), acc);
                acc.Store(output + o);
                if (o == last) return;
            }
        }
        for (var o = 0; o < width; o++)
        {
            var acc = bias;
            for (var t = 0; t < taps; t++) acc = MathF.FusedMultiplyAdd(row[offs[t] + o], w[t], acc);
            output[o] = acc;
        }
    }

    /// <summary>
    /// Σ over output rows r and columns o of dy[r, o]·xp[r·rowStep + o], in a fixed order. A row's last partial vector
    /// is loaded overlapping the previous one, with the already-counted lanes masked to zero, so short rows (28, 14)
    /// stay vectorised without reading past either buffer.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float TapDot(float* xp, int rowStep, float* dy, int width, int rows)
    {
        if (Vector512.IsHardwareAccelerated && width >= Vector512<float>.Count)
        {
            var full = width - width % Vector512<float>.Count;
            var tailMask = Vector512.GreaterThanOrEqual(Vector512<int>.Indices, Vector512.Create(Vector512<float>.Count - width % Vector512<float>.Count)).AsSingle();
            var acc = Vector512<float>.Zero;
            for (var r = 0; r < rows; r++)
            {
                var a = xp + (long)r * rowStep;
                var b = dy + (long)r * width;
                for (var o = 0; o < full; o += Vector512<float>.Count)
                {
                    acc = Vector512.MultiplyAddEstimate(Vector512.Load(a + o), Vector512.Load(b + o), acc);
                }
                if (full < width)
                {
                    var o = width - Vector512<float>.Count;
                    acc = Vector512.MultiplyAddEstimate(Vector512.Load(a + o) & tailMask, Vector512.Load(b + o), acc);
                }
            }
            return Vector512.Sum(acc);
        }
        if (Vector256.IsHardwareAccelerated && width >= Vector256<float>.Count)
        {
            var full = width - width % Vector256<float>.Count;
            var tailMask = Vector256.GreaterThanOrEqual(Vector256<int>.Indices, Vector256.Create(Vector256<float>.Count - width % Vector256<float>.Count)).AsSingle();
            var acc = Vector256<float>.Zero;
            for (var r = 0; r < rows; r++)
            {
                var a = xp + (long)r * rowStep;
                var b = dy + (long)r * width;
                for (var o = 0; o < full; o += Vector256<float>.Count)
                {
                    acc = Vector256.MultiplyAddEstimate(Vector256.Load(a + o), Vector256.Load(b + o), acc);
                }
                if (full < width)
                {
                    var o = width - Vector256<float>.Count;
                    acc = Vector256.MultiplyAddEstimate(Vector256.Load(a + o) & tailMask, Vector256.Load(b + o), acc);
                }
            }
            return Vector256.Sum(acc);
        }
        var tail = 0f;
        for (var r = 0; r < rows; r++)
        {
            var a = xp + (long)r * rowStep;
            var b = dy + (long)r * width;
            for (var o = 0; o < width; o++) tail = MathF.FusedMultiplyAdd(a[o], b[o], tail);
        }
        return tail;
    }

    /// <summary>
    /// The padded, phase-split scratch plane. Padded row pr holds input row pr − PadTop; within a row, phase r
    /// (0 ≤ r &lt; StrideW) holds padded columns r, r + s, r + 2s, … at positions 0, 1, 2, …, so output column o under
    /// tap column kw reads phase (kw·dw) mod s at position o + ⌊kw·dw / s⌋.
    /// </summary>
    private readonly struct Layout
    {
        public Layout(in ConvGeometry g)
        {
            OutH = g.OutHeight;
            OutW = g.OutWidth;
            InPlane = g.InHeight * g.InWidth;
            // Only the padded rows and columns some window touches; the rest of the padding never matters.
            Rows = (OutH - 1) * g.StrideH + (g.KernelHeight - 1) * g.DilationH + 1;
            Columns = (OutW - 1) * g.StrideW + (g.KernelWidth - 1) * g.DilationW + 1;
            PhaseWidth = (Columns + g.StrideW - 1) / g.StrideW;
            RowStride = PhaseWidth * g.StrideW;
            Length = Rows * RowStride;
        }

        public int OutH { get; }
        public int OutW { get; }
        public int InPlane { get; }
        public int Rows { get; }
        public int Columns { get; }
        public int PhaseWidth { get; }
        public int RowStride { get; }
        public int Length { get; }

        public void TapOffsets(in ConvGeometry g, Span<int> offsets)
        {
            for (var kh = 0; kh < g.KernelHeight; kh++)
            {
                for (var kw = 0; kw < g.KernelWidth; kw++)
                {
                    var column = kw * g.DilationW;
                    offsets[kh * g.KernelWidth + kw] = kh * g.DilationH * RowStride + column % g.StrideW * PhaseWidth + column / g.StrideW;
                }
            }
        }

        /// <summary>Copies one input plane into the padded, phase-split scratch.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Fill(in ConvGeometry g, float* x, float* xp)
        {
            int h = g.InHeight, w = g.InWidth, s = g.StrideW, left = g.PadLeft;
            for (var pr = 0; pr < Rows; pr++)
            {
                var ih = pr - g.PadTop;
                var dst = xp + (long)pr * RowStride;
                if ((uint)ih >= (uint)h)
                {
                    ConvSimd.Zero(dst, RowStride);
                    continue;
                }
                var src = x + (long)ih * w;
                if (s == 1)
                {
                    // Columns [0, left) are padding, then the input row (clipped to the columns used), then zeros.
                    var lead = Math.Min(left, Columns);
                    var count = Math.Clamp(Columns - left, 0, w);
                    ConvSimd.Zero(dst, lead);
                    ConvSimd.Copy(src, dst + lead, count);
                    ConvSimd.Zero(dst + lead + count, RowStride - lead - count);
                    continue;
                }
                for (var r = 0; r < s; r++)
                {
                    var phase = dst + r * PhaseWidth;
                    for (var j = 0; j < PhaseWidth; j++)
                    {
                        var iw = j * s + r - left;
                        phase[j] = (uint)iw < (uint)w && j * s + r < Columns ? src[iw] : 0f;
                    }
                }
            }
        }

        /// <summary>Writes the input-plane part of a padded, phase-split gradient plane to dx (pixels no window reads get 0).</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Extract(in ConvGeometry g, float* xp, float* dx)
        {
            int h = g.InHeight, w = g.InWidth, s = g.StrideW, left = g.PadLeft;
            for (var ih = 0; ih < h; ih++)
            {
                var pr = ih + g.PadTop;
                var dst = dx + (long)ih * w;
                if (pr >= Rows)
                {
                    ConvSimd.Zero(dst, w);
                    continue;
                }
                var src = xp + (long)pr * RowStride;
                // Input columns iw with padded column iw + left < Columns were reachable.
                var count = Math.Clamp(Columns - left, 0, w);
                if (s == 1)
                {
                    ConvSimd.Copy(src + left, dst, count);
                }
                else
                {
                    for (var iw = 0; iw < count; iw++)
                    {
                        var pc = iw + left;
                        dst[iw] = src[pc % s * PhaseWidth + pc / s];
                    }
                }
                ConvSimd.Zero(dst + count, w - count);
            }
        }
    }
}
