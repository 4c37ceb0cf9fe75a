namespace Acp.Engine.Kernels;

/// <summary>
/// Max, average and global average pooling over NCHW float buffers, forward and backward. Buffers may be longer than
/// the geometry needs; only the prefix is touched. Outputs (gradients included) are overwritten. Work is split over
/// (image, channel) planes; each plane is owned by one thread and accumulated in a fixed order, so every result is
/// deterministic.
/// </summary>
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

        int h = g.InHeight, w = g.InWidth, outH = g.OutHeight, outW = g.OutWidth;
        var inPlane = h * w;
        var outPlane = outH * outW;
        ConvSimd.For(g.Batch * g.Channels, 0, (long)outPlane * g.KernelHeight * g.KernelWidth, (p, _) =>
        {
            var inBase = (long)p * inPlane;
            fixed (float* px = x, py = y)
            fixed (int* pa = argmax)
            {
                var plane = px + inBase;
                var outRow = py + (long)p * outPlane;
                var idxRow = pa + (long)p * outPlane;
                for (var oh = 0; oh < outH; oh++, outRow += outW, idxRow += outW)
                {
                    var hs = oh * g.StrideH - g.PadTop;
                    Im2Col.RowRange(hs, g.DilationH, h, g.KernelHeight, out var khLo, out var khHi);
                    for (var ow = 0; ow < outW; ow++)
                    {
                        var ws = ow * g.StrideW - g.PadLeft;
                        Im2Col.RowRange(ws, g.DilationW, w, g.KernelWidth, out var kwLo, out var kwHi);
                        var best = float.NegativeInfinity;
                        var index = -1;
                        for (var kh = khLo; kh < khHi; kh++)
                        {
                            var rowStart = (hs + kh * g.DilationH) * w + ws;
                            for (var kw = kwLo; kw < kwHi; kw++)
                            {
                                var at = rowStart + kw * g.DilationW;
                                var v = plane[at];
                                // Strictly greater keeps the first of equal maxima; a NaN beats any number but not an earlier NaN.
                                if (index < 0 || v > best || (float.IsNaN(v) && !float.IsNaN(best)))
                                {
                                    best = v;
                                    index = at;
                                }
                            }
                        }
                        outRow[ow] = best;
                        idxRow[ow] = index < 0 ? -1 : checked((int)(inBase + index));
                    }
                }
            }
        });
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
        ConvSimd.For(g.Batch * g.Channels, 0, outPlane + inPlane, (p, _) =>
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

        int h = g.InHeight, w = g.InWidth, outH = g.OutHeight, outW = g.OutWidth;
        var inPlane = h * w;
        var outPlane = outH * outW;
        ConvSimd.For(g.Batch * g.Channels, 0, (long)outPlane * g.KernelHeight * g.KernelWidth, (p, _) =>
        {
            fixed (float* px = x, py = y)
            {
                var plane = px + (long)p * inPlane;
                var outRow = py + (long)p * outPlane;
                for (var oh = 0; oh < outH; oh++, outRow += outW)
                {
                    var hs = oh * g.StrideH - g.PadTop;
                    var rows = Window(g, hs, g.DilationH, h, g.PadTop, g.PadBottom, g.KernelHeight, out var khLo, out var khHi);
                    for (var ow = 0; ow < outW; ow++)
                    {
                        var ws = ow * g.StrideW - g.PadLeft;
                        var cols = Window(g, ws, g.DilationW, w, g.PadLeft, g.PadRight, g.KernelWidth, out var kwLo, out var kwHi);
                        var sum = 0f;
                        for (var kh = khLo; kh < khHi; kh++)
                        {
                            var row = plane + (hs + kh * g.DilationH) * w + ws;
                            for (var kw = kwLo; kw < kwHi; kw++) sum += row[kw * g.DilationW];
                        }
                        var count = rows * cols;
                        outRow[ow] = count > 0 ? sum / count : 0f;
                    }
                }
            }
        });
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

        int h = g.InHeight, w = g.InWidth, outH = g.OutHeight, outW = g.OutWidth;
        var inPlane = h * w;
        var outPlane = outH * outW;
        ConvSimd.For(g.Batch * g.Channels, 0, (long)outPlane * g.KernelHeight * g.KernelWidth, (p, _) =>
        {
            fixed (float* pdx = dx, pdy = dy)
            {
                var plane = pdx + (long)p * inPlane;
                ConvSimd.Zero(plane, inPlane);
                var dyRow = pdy + (long)p * outPlane;
                for (var oh = 0; oh < outH; oh++, dyRow += outW)
                {
                    var hs = oh * g.StrideH - g.PadTop;
                    var rows = Window(g, hs, g.DilationH, h, g.PadTop, g.PadBottom, g.KernelHeight, out var khLo, out var khHi);
                    for (var ow = 0; ow < outW; ow++)
                    {
                        var ws = ow * g.StrideW - g.PadLeft;
                        var cols = Window(g, ws, g.DilationW, w, g.PadLeft, g.PadRight, g.KernelWidth, out var kwLo, out var kwHi);
                        var count = rows * cols;
                        if (count == 0) continue;
                        var share = dyRow[ow] / count;
                        for (var kh = khLo; kh < khHi; kh++)
                        {
                            var row = plane + (hs + kh * g.DilationH) * w + ws;
                            for (var kw = kwLo; kw < kwHi; kw++) row[kw * g.DilationW] += share;
                        }
                    }
                }
            }
        });
    }

    /// <summary>y[i] = mean of x[i·hw .. (i+1)·hw) for i &lt; n·c: the spatial mean of each (image, channel) plane.</summary>
    /// <exception cref="ArgumentException">A size is negative, hw is 0 with planes present, or a buffer is too short.</exception>
    public static void GlobalAverageForward(int n, int c, int hw, float[] x, float[] y)
    {
        var planes = CheckGlobal(n, c, hw);
        Require(x.Length, planes * hw, nameof(x), "input N·C·HW", n, c, hw);
        Require(y.Length, planes, nameof(y), "output N·C", n, c, hw);
        ConvSimd.For((int)planes, 0, hw, (p, _) =>
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
        ConvSimd.For((int)planes, 0, hw, (p, _) => dx.AsSpan(p * hw, hw).Fill(dy[p] / hw));
    }

    /// <summary>
    /// The taps [lo, hi) of one window axis that fall inside the input, and the divisor contribution of that axis:
    /// the taps inside the input, or with count_include_pad the taps inside the padded input.
    /// </summary>
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
}
