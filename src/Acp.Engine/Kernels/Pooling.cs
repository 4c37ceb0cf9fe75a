using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Acp.Engine.Kernels;

/// <summary>
/// Max, average and global average pooling over NCHW float buffers, forward and backward. Buffers may be longer than
/// the geometry needs; only the prefix is touched. Outputs (gradients included) are overwritten. Work is split over
/// (image, channel) planes; each plane is owned by one thread and accumulated in a fixed order, so every result is
/// deterministic.
/// </summary>
/// <remarks>
/// Outputs whose windows lie wholly inside the input horizontally run 16 at a time on AVX-512 (inputs of strided
/// layers are read from phase-split rows, so every tap of a run is one contiguous load); window edges and short rows
/// run element by element with the same rules.
/// </remarks>
public static unsafe class Pooling
{
    /// <summary>
    /// y = max over each window of x; argmax receives, for each output, the flat index into x (NCHW, as ONNX
    /// MaxPool's Indices with storage_order 0) of the element chosen. Padding never wins; among equal maxima the
    /// first in row-major window order wins; a NaN in the window wins (the first one). A window holding no input
    /// element (possible only with padding and dilation) yields −∞ and index −1, which the backward pass skips.
    /// </summary>
    /// <exception cref="ArgumentException">The geometry is invalid or a buffer is shorter than it requires.</exception>
    public static void MaxForward(PoolGeometry g, float[] x, float[] y, int[] argmax)
    {
        g.Validate();
        Require(x.Length, g.InputLength, nameof(x), "input N·C·H·W", g);
        Require(y.Length, g.OutputLength, nameof(y), "output N·C·OH·OW", g);
        ArgumentNullException.ThrowIfNull(argmax);
        Require(argmax.Length, g.OutputLength, nameof(argmax), "argmax N·C·OH·OW", g);

        var rows = new Rows(g);
        var outPlane = g.OutHeight * g.OutWidth;
        ConvSimd.For(g.Batch * g.Channels, rows.ScratchLength, (long)outPlane * g.KernelHeight * g.KernelWidth, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (p, scratch) =>
        {
            fixed (float* px = x, py = y, ps = scratch)
            fixed (int* pa = argmax)
            {
                var inBase = (long)p * rows.InPlane;
                var plane = px + inBase;
                var phases = rows.Split ? ps : plane;
                if (rows.Split) rows.SplitPlane(plane, phases);
                for (var oh = 0; oh < g.OutHeight; oh++)
                {
                    var outRow = py + (long)p * outPlane + oh * g.OutWidth;
                    var idxRow = pa + (long)p * outPlane + oh * g.OutWidth;
                    var hs = oh * g.StrideH - g.PadTop;
                    Im2Col.RowRange(hs, g.DilationH, g.InHeight, g.KernelHeight, out var khLo, out var khHi);
                    var (owA, owB) = khLo < khHi && Vector512.IsHardwareAccelerated ? rows.Interior : (0, 0);
                    for (var ow = 0; ow < g.OutWidth; ow++)
                    {
                        if (ow == owA && owB - owA >= Vector512<float>.Count)
                        {
                            MaxRowInterior(g, rows, phases, (int)inBase, hs, khLo, khHi, owA, owB, outRow, idxRow);
                            ow = owB - 1;
                            continue;
                        }
                        MaxScalar(g, plane, inBase, hs, khLo, khHi, ow, out outRow[ow], out idxRow[ow]);
                    }
                }
            }
        });
    }

    /// <summary>One window of max pooling, element by element (window edges, short rows).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MaxScalar(in PoolGeometry g, float* plane, long inBase, int hs, int khLo, int khHi, int ow, out float value, out int index)
    {
        var ws = ow * g.StrideW - g.PadLeft;
        Im2Col.RowRange(ws, g.DilationW, g.InWidth, g.KernelWidth, out var kwLo, out var kwHi);
        var best = float.NegativeInfinity;
        var at = -1;
        for (var kh = khLo; kh < khHi; kh++)
        {
            var rowStart = (hs + kh * g.DilationH) * g.InWidth + ws;
            for (var kw = kwLo; kw < kwHi; kw++)
            {
                var i = rowStart + kw * g.DilationW;
                var v = plane[i];
                // Strictly greater keeps the first of equal maxima; a NaN beats any number but not an earlier NaN.
                if (at < 0 || v > best || (float.IsNaN(v) && !float.IsNaN(best)))
                {
                    best = v;
                    at = i;
                }
            }
        }
        value = best;
        index = at < 0 ? -1 : checked((int)(inBase + at));
    }

    /// <summary>
    /// Outputs [owA, owB) of one row, whose windows lie wholly inside the input horizontally, 16 at a time with the
    /// same first-wins and NaN rules as <see cref="MaxScalar"/>, branch-free. The last vector overlaps the previous
    /// one; overlapping outputs are recomputed identically.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MaxRowInterior(in PoolGeometry g, in Rows rows, float* phases, int inBase, int hs, int khLo, int khHi, int owA, int owB,
        float* outRow, int* idxRow)
    {
        var stepIndex = Vector512<int>.Indices * g.StrideW;
        for (var ow0 = owA; ; ow0 += Vector512<float>.Count)
        {
            if (ow0 > owB - Vector512<float>.Count) ow0 = owB - Vector512<float>.Count;
            var best = Vector512<float>.Zero;
            var index = Vector512<int>.Zero;
            var first = true;
            for (var kh = khLo; kh < khHi; kh++)
            {
                var ih = hs + kh * g.DilationH;
                var line = phases + (long)ih * rows.RowStride;
                for (var kw = 0; kw < g.KernelWidth; kw++)
                {
                    var column = ow0 * g.StrideW - g.PadLeft + kw * g.DilationW;
                    var v = Vector512.Load(line + rows.Slot(column));
                    var at = Vector512.Create(inBase + ih * g.InWidth + column) + stepIndex;
                    if (first)
                    {
                        best = v;
                        index = at;
                        first = false;
                        continue;
                    }
                    var take = Vector512.GreaterThan(v, best) |
                        Vector512.AndNot(~Vector512.Equals(v, v), ~Vector512.Equals(best, best));
                    best = Vector512.ConditionalSelect(take, v, best);
                    index = Vector512.ConditionalSelect(take.AsInt32(), at, index);
                }
            }
            best.Store(outRow + ow0);
            index.Store(idxRow + ow0);
            if (ow0 == owB - Vector512<float>.Count) return;
        }
    }

    /// <summary>
    /// dx = ∂L/∂x of max pooling: each dy element is added to the input element its argmax names (from
    /// <see cref="MaxForward"/> with the same geometry); everything else is 0.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// The geometry is invalid, a buffer is shorter than it requires, or an index lies outside its own (image, channel) plane.
    /// </exception>
    public static void MaxBackward(PoolGeometry g, float[] dy, int[] argmax, float[] dx)
    {
        g.Validate();
        Require(dy.Length, g.OutputLength, nameof(dy), "output gradient N·C·OH·OW", g);
        ArgumentNullException.ThrowIfNull(argmax);
        Require(argmax.Length, g.OutputLength, nameof(argmax), "argmax N·C·OH·OW", g);
        Require(dx.Length, g.InputLength, nameof(dx), "input gradient N·C·H·W", g);

        var inPlane = g.InHeight * g.InWidth;
        var outPlane = g.OutHeight * g.OutWidth;
        ConvSimd.For(g.Batch * g.Channels, 0, outPlane + inPlane, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (p, _) =>
        {
            var inBase = p * inPlane;
            var outBase = p * outPlane;
            var plane = dx.AsSpan(inBase, inPlane);
            plane.Clear();
            for (var o = 0; o < outPlane; o++)
            {
                var index = argmax[outBase + o];
                if (index < 0) continue;
                // Checked so a foreign index array cannot make two threads write one element.
                var local = index - inBase;
                if ((uint)local >= (uint)inPlane)
                {
                    throw new ArgumentException($"argmax[{outBase + o}] = {index} lies outside its plane [{inBase}, {inBase + inPlane}) ({g}).", nameof(argmax));
                }
                plane[local] += dy[outBase + o];
            }
        });
    }

    /// <summary>
    /// y = mean over each window of x. The divisor is the number of window taps inside the input, or with
    /// <see cref="PoolGeometry.CountIncludePad"/> inside the padded input. A window with nothing to count yields 0.
    /// </summary>
    /// <exception cref="ArgumentException">The geometry is invalid or a buffer is shorter than it requires.</exception>
    public static void AverageForward(PoolGeometry g, float[] x, float[] y)
    {
        g.Validate();
        Require(x.Length, g.InputLength, nameof(x), "input N·C·H·W", g);
        Require(y.Length, g.OutputLength, nameof(y), "output N·C·OH·OW", g);

        var rows = new Rows(g);
        var outPlane = g.OutHeight * g.OutWidth;
        ConvSimd.For(g.Batch * g.Channels, rows.ScratchLength, (long)outPlane * g.KernelHeight * g.KernelWidth, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (p, scratch) =>
        {
            fixed (float* px = x, py = y, ps = scratch)
            {
                var plane = px + (long)p * rows.InPlane;
                var phases = rows.Split ? ps : plane;
                if (rows.Split) rows.SplitPlane(plane, phases);
                for (var oh = 0; oh < g.OutHeight; oh++)
                {
                    var outRow = py + (long)p * outPlane + oh * g.OutWidth;
                    var hs = oh * g.StrideH - g.PadTop;
                    var rowCount = Window(g, hs, g.DilationH, g.InHeight, g.PadTop, g.PadBottom, g.KernelHeight, out var khLo, out var khHi);
                    var (owA, owB) = khLo < khHi && Vector512.IsHardwareAccelerated ? rows.Interior : (0, 0);
                    for (var ow = 0; ow < g.OutWidth; ow++)
                    {
                        if (ow == owA && owB - owA >= Vector512<float>.Count)
                        {
                            AverageRowInterior(g, rows, phases, hs, khLo, khHi, rowCount * g.KernelWidth, owA, owB, outRow);
                            ow = owB - 1;
                            continue;
                        }
                        var ws = ow * g.StrideW - g.PadLeft;
                        var cols = Window(g, ws, g.DilationW, g.InWidth, g.PadLeft, g.PadRight, g.KernelWidth, out var kwLo, out var kwHi);
                        var sum = 0f;
                        for (var kh = khLo; kh < khHi; kh++)
                        {
                            var row = plane + (hs + kh * g.DilationH) * g.InWidth + ws;
                            for (var kw = kwLo; kw < kwHi; kw++) sum += row[kw * g.DilationW];
                        }
                        var count = rowCount * cols;
                        outRow[ow] = count > 0 ? sum / count : 0f;
                    }
                }
            }
        });
    }

    /// <summary>Outputs [owA, owB) of one row of average pooling, 16 at a time (last vector overlapping); same sum order as the scalar path.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AverageRowInterior(in PoolGeometry g, in Rows rows, float* phases, int hs, int khLo, int khHi, int count, int owA, int owB, float* outRow)
    {
        var divisor = Vector512.Create((float)count);
        for (var ow0 = owA; ; ow0 += Vector512<float>.Count)
        {
            if (ow0 > owB - Vector512<float>.Count) ow0 = owB - Vector512<float>.Count;
            var sum = Vector512<float>.Zero;
            for (var kh = khLo; kh < khHi; kh++)
            {
                var line = phases + (long)(hs + kh * g.DilationH) * rows.RowStride;
                for (var kw = 0; kw < g.KernelWidth; kw++)
                {
                    sum += Vector512.Load(line + rows.Slot(ow0 * g.StrideW - g.PadLeft + kw * g.DilationW));
                }
            }
            (count > 0 ? sum / divisor : Vector512<float>.Zero).Store(outRow + ow0);
            if (ow0 == owB - Vector512<float>.Count) return;
        }
    }

    /// <summary>
    /// dx = ∂L/∂x of average pooling: each dy element, divided by its window's divisor (as in
    /// <see cref="AverageForward"/>), is added to every input element of the window.
    /// </summary>
    /// <exception cref="ArgumentException">The geometry is invalid or a buffer is shorter than it requires.</exception>
    public static void AverageBackward(PoolGeometry g, float[] dy, float[] dx)
    {
        g.Validate();
        Require(dy.Length, g.OutputLength, nameof(dy), "output gradient N·C·OH·OW", g);
        Require(dx.Length, g.InputLength, nameof(dx), "input gradient N·C·H·W", g);

        var rows = new Rows(g);
        var outPlane = g.OutHeight * g.OutWidth;
        ConvSimd.For(g.Batch * g.Channels, rows.ScratchLength, (long)outPlane * g.KernelHeight * g.KernelWidth, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (p, scratch) =>
        {
            fixed (float* pdx = dx, pdy = dy, ps = scratch)
            {
                var plane = pdx + (long)p * rows.InPlane;
                // Strided layers accumulate into phase-split rows (each tap of a run of outputs is then contiguous)
                // and merge into dx at the end.
                var target = rows.Split ? ps : plane;
                ConvSimd.Zero(target, rows.Split ? rows.ScratchLength : rows.InPlane);
                for (var oh = 0; oh < g.OutHeight; oh++)
                {
                    var dyRow = pdy + (long)p * outPlane + oh * g.OutWidth;
                    var hs = oh * g.StrideH - g.PadTop;
                    var rowCount = Window(g, hs, g.DilationH, g.InHeight, g.PadTop, g.PadBottom, g.KernelHeight, out var khLo, out var khHi);
                    var (owA, owB) = khLo < khHi && Vector512.IsHardwareAccelerated ? rows.Interior : (0, 0);
                    var ow = 0;
                    if (owB - owA >= Vector512<float>.Count)
                    {
                        // Scalar windows left of the interior, whole vectors inside it, scalar from the last partial vector on.
                        for (; ow < owA; ow++) AverageBackwardScalar(g, rows, target, dyRow[ow], hs, khLo, khHi, rowCount, ow);
                        var divisor = Vector512.Create((float)(rowCount * g.KernelWidth));
                        for (; ow + Vector512<float>.Count <= owB; ow += Vector512<float>.Count)
                        {
                            var share = Vector512.Load(dyRow + ow) / divisor;
                            for (var kh = khLo; kh < khHi; kh++)
                            {
                                var line = target + (long)(hs + kh * g.DilationH) * rows.RowStride;
                                for (var kw = 0; kw < g.KernelWidth; kw++)
                                {
                                    var slot = line + rows.Slot(ow * g.StrideW - g.PadLeft + kw * g.DilationW);
                                    (Vector512.Load(slot) + share).Store(slot);
                                }
                            }
                        }
                    }
                    for (; ow < g.OutWidth; ow++) AverageBackwardScalar(g, rows, target, dyRow[ow], hs, khLo, khHi, rowCount, ow);
                }
                if (rows.Split) rows.MergePlane(target, plane);
            }
        });
    }

    /// <summary>One window of the average-pooling gradient, element by element, into plain or phase-split rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AverageBackwardScalar(in PoolGeometry g, in Rows rows, float* target, float grad, int hs, int khLo, int khHi, int rowCount, int ow)
    {
        var ws = ow * g.StrideW - g.PadLeft;
        var cols = Window(g, ws, g.DilationW, g.InWidth, g.PadLeft, g.PadRight, g.KernelWidth, out var kwLo, out var kwHi);
        var count = rowCount * cols;
        if (count == 0) return;
        var share = grad / count;
        for (var kh = khLo; kh < khHi; kh++)
        {
            var line = target + (long)(hs + kh * g.DilationH) * rows.RowStride;
            for (var kw = kwLo; kw < kwHi; kw++) line[rows.Slot(ws + kw * g.DilationW)] += share;
        }
    }

    /// <summary>y[i] = mean of x[i·hw .. (i+1)·hw) for i &lt; n·c: the spatial mean of each (image, channel) plane.</summary>
    /// <exception cref="ArgumentException">A size is negative, hw is 0 with planes present, or a buffer is too short.</exception>
    public static void GlobalAverageForward(int n, int c, int hw, float[] x, float[] y)
    {
        var planes = CheckGlobal(n, c, hw);
        Require(x.Length, planes * hw, nameof(x), "input N·C·HW", n, c, hw);
        Require(y.Length, planes, nameof(y), "output N·C", n, c, hw);
        ConvSimd.For((int)planes, 0, hw, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (p, _) =>
        {
            fixed (float* px = x)
            {
                y[p] = ConvSimd.Sum(px + (long)p * hw, hw) / hw;
            }
        });
    }

    /// <summary>dx[i·hw + j] = dy[i] / hw: the gradient of <see cref="GlobalAverageForward"/>.</summary>
    /// <exception cref="ArgumentException">A size is negative, hw is 0 with planes present, or a buffer is too short.</exception>
    public static void GlobalAverageBackward(int n, int c, int hw, float[] dy, float[] dx)
    {
        var planes = CheckGlobal(n, c, hw);
        Require(dy.Length, planes, nameof(dy), "output gradient N·C", n, c, hw);
        Require(dx.Length, planes * hw, nameof(dx), "input gradient N·C·HW", n, c, hw);
        ConvSimd.For((int)planes, 0, hw, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (p, _) => dx.AsSpan(p * hw, hw).Fill(dy[p] / hw));
    }

    /// <summary>
    /// The taps [lo, hi) of one window axis that fall inside the input, and the divisor contribution of that axis:
    /// the taps inside the input, or with count_include_pad the taps inside the padded input.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Window(in PoolGeometry g, int start, int dilation, int size, int padBefore, int padAfter, int kernel, out int lo, out int hi)
    {
        Im2Col.RowRange(start, dilation, size, kernel, out lo, out hi);
        if (!g.CountIncludePad) return hi - lo;
        // start ≥ −padBefore always, so only the far edge of the padded input can cut the window.
        Im2Col.RowRange(start + padBefore, dilation, size + padBefore + padAfter, kernel, out var plo, out var phi);
        return phi - plo;
    }

    private static long CheckGlobal(int n, int c, int hw)
    {
        if (n < 0 || c < 0 || hw < 0) throw new ArgumentException($"Global pooling sizes n={n}, c={c}, hw={hw} must not be negative.");
        var planes = (long)n * c;
        if (planes > 0 && hw == 0) throw new ArgumentException($"Global pooling over empty planes (n={n}, c={c}, hw=0) has no mean.");
        if (planes > 0 && hw > Array.MaxLength / planes) throw new ArgumentException($"Global pooling input n·c·hw = {n}·{c}·{hw} does not fit one array.");
        return planes;
    }

    private static void Require(int length, long needed, string name, string what, in PoolGeometry g)
    {
        if (length < needed) throw new ArgumentException($"{name} has {length} elements but the {what} needs {needed} ({g}).", name);
    }

    private static void Require(int length, long needed, string name, string what, int n, int c, int hw)
    {
        if (length < needed) throw new ArgumentException($"{name} has {length} elements but the {what} needs {needed} (n={n}, c={c}, hw={hw}).", name);
    }

    /// <summary>
    /// Row addressing for the pooling kernels. With horizontal stride s above 1, each input row is stored split by
    /// phase (column mod s): phase r holds columns r, r + s, r + 2s, … at consecutive positions, so the inputs under
    /// a run of consecutive outputs, for any one tap, are consecutive floats. With stride 1 rows are the input's own.
    /// </summary>
    private readonly struct Rows
    {
        private readonly int w, s;

        public Rows(in PoolGeometry g)
        {
            w = g.InWidth;
            s = g.StrideW;
            Split = s > 1;
            PhaseWidth = (w + s - 1) / s;
            RowStride = Split ? s * PhaseWidth : w;
            InPlane = g.InHeight * w;
            ScratchLength = Split ? g.InHeight * RowStride : 0;
            // Outputs whose whole window lies inside the input horizontally.
            var lo = (g.PadLeft + s - 1) / s;
            var top = w - 1 + g.PadLeft - (g.KernelWidth - 1) * g.DilationW;
            var hi = top < 0 ? 0 : top / s + 1;
            lo = Math.Min(lo, g.OutWidth);
            Interior = (lo, Math.Clamp(hi, lo, g.OutWidth));
        }

        public bool Split { get; }
        public int PhaseWidth { get; }
        public int RowStride { get; }
        public int InPlane { get; }
        public int ScratchLength { get; }
        public (int Lo, int Hi) Interior { get; }

        /// <summary>Where input column c (0 ≤ c &lt; W) of a row lives.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public int Slot(int column) => Split ? column % s * PhaseWidth + column / s : column;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void SplitPlane(float* plane, float* dst)
        {
            var rows = InPlane / w;
            for (var r = 0; r < rows; r++)
            {
                var src = plane + (long)r * w;
                var line = dst + (long)r * RowStride;
                if (s == 2)
                {
                    Im2Col.Deinterleave(src, w, line, line + PhaseWidth);
                    continue;
                }
                for (var c = 0; c < w; c++) line[c % s * PhaseWidth + c / s] = src[c];
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void MergePlane(float* src, float* plane)
        {
            var rows = InPlane / w;
            for (var r = 0; r < rows; r++)
            {
                var line = src + (long)r * RowStride;
                var dst = plane + (long)r * w;
                if (s == 2)
                {
                    Im2Col.Interleave(line, line + PhaseWidth, dst, w);
                    continue;
                }
                for (var c = 0; c < w; c++) dst[c] = line[c % s * PhaseWidth + c / s];
            }
        }
    }
}
