namespace Acp.Engine.Kernels;

/// <summary>
/// The column transform behind the GEMM convolution. For one image and one group, the column matrix has a row per
/// (input channel c, tap kh, tap kw) and a column per output pixel (oh, ow); entry = x[c, oh·sh − pt + kh·dh,
/// ow·sw − pl + kw·dw], or 0 in the padding. Both directions work on a band of output rows [oh0, oh1) so the scratch
/// stays cache-sized however large the image is.
/// </summary>
internal static unsafe class Im2Col
{
    /// <summary>
    /// Fills col (rows for channels [0, channels) of x, each (oh1 − oh0)·OW long, rows packed back to back) from the
    /// channel planes at x.
    /// </summary>
    public static void Pack(in ConvGeometry g, float* x, int channels, int oh0, int oh1, float* col)
    {
        int h = g.InHeight, w = g.InWidth, ow = g.OutWidth, oh = g.OutHeight;
        int kh = g.KernelHeight, kw = g.KernelWidth;
        var cols = (oh1 - oh0) * ow;
        var plane = h * w;
        // Stride 1 with "same" width: consecutive output rows read consecutive input rows, so one band of a column
        // row is one contiguous stretch of the input plane, apart from the columns that wrap into the neighbouring
        // row, which are zeroed afterwards. This turns ~OH short copies into one long one (3×3 pad 1 is the common case).
        var contiguous = g.StrideH == 1 && g.StrideW == 1 && ow == w;
        for (var c = 0; c < channels; c++)
        {
            var src = x + (long)c * plane;
            for (var i = 0; i < kh; i++)
            {
                var dh = i * g.DilationH - g.PadTop;
                RowRange(dh, g.StrideH, h, oh, out var ohLo, out var ohHi);
                ohLo = Math.Max(ohLo, oh0);
                ohHi = Math.Min(ohHi, oh1);
                for (var j = 0; j < kw; j++)
                {
                    var dw = j * g.DilationW - g.PadLeft;
                    RowRange(dw, g.StrideW, w, ow, out var owLo, out var owHi);
                    var dst = col + ((long)(c * kh + i) * kw + j) * cols;
                    if (ohLo >= ohHi || owLo >= owHi)
                    {
                        ConvSimd.Zero(dst, cols);
                        continue;
                    }

                    ConvSimd.Zero(dst, (ohLo - oh0) * ow);
                    ConvSimd.Zero(dst + (ohHi - oh0) * ow, (oh1 - ohHi) * ow);
                    if (contiguous)
                    {
                        var start = (ohLo - oh0) * ow + owLo;
                        var length = (ohHi - 1 - oh0) * ow + owHi - start;
                        ConvSimd.Copy(src + (ohLo + dh) * w + owLo + dw, dst + start, length);
                        for (var r = ohLo; r < ohHi; r++)
                        {
                            var row = dst + (r - oh0) * ow;
                            for (var q = 0; q < owLo; q++) row[q] = 0f;
                            for (var q = owHi; q < ow; q++) row[q] = 0f;
                        }
                        continue;
                    }

                    for (var r = ohLo; r < ohHi; r++)
                    {
                        var row = dst + (r - oh0) * ow;
                        var srcRow = src + (r * g.StrideH + dh) * w + dw;
                        for (var q = 0; q < owLo; q++) row[q] = 0f;
                        for (var q = owHi; q < ow; q++) row[q] = 0f;
                        if (g.StrideW == 1)
                        {
                            ConvSimd.Copy(srcRow + owLo, row + owLo, owHi - owLo);
                        }
                        else
                        {
                            var sw = g.StrideW;
                            for (var q = owLo; q < owHi; q++) row[q] = srcRow[q * sw];
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// Adds a column band (laid out as <see cref="Pack"/> writes it) back into the channel planes at dx: the adjoint of
    /// <see cref="Pack"/>. Entries of col that fall in the padding are discarded; col itself is used as scratch and
    /// its wrapped entries are zeroed. Accumulation runs in a fixed order, so the result is deterministic.
    /// </summary>
    public static void Unpack(in ConvGeometry g, float* col, int channels, int oh0, int oh1, float* dx)
    {
        int h = g.InHeight, w = g.InWidth, ow = g.OutWidth, oh = g.OutHeight;
        int kh = g.KernelHeight, kw = g.KernelWidth;
        var cols = (oh1 - oh0) * ow;
        var plane = h * w;
        var contiguous = g.StrideH == 1 && g.StrideW == 1 && ow == w;
        for (var c = 0; c < channels; c++)
        {
            var dst = dx + (long)c * plane;
            for (var i = 0; i < kh; i++)
            {
                var dh = i * g.DilationH - g.PadTop;
                RowRange(dh, g.StrideH, h, oh, out var ohLo, out var ohHi);
                ohLo = Math.Max(ohLo, oh0);
                ohHi = Math.Min(ohHi, oh1);
                for (var j = 0; j < kw; j++)
                {
                    var dw = j * g.DilationW - g.PadLeft;
                    RowRange(dw, g.StrideW, w, ow, out var owLo, out var owHi);
                    if (ohLo >= ohHi || owLo >= owHi) continue;
                    var src = col + ((long)(c * kh + i) * kw + j) * cols;
                    if (contiguous)
                    {
                        // Zero the entries that would wrap into the neighbouring row, then add one long stretch:
                        // adding +0 leaves the wrapped-onto elements unchanged.
                        for (var r = ohLo; r < ohHi; r++)
                        {
                            var row = src + (r - oh0) * ow;
                            for (var q = 0; q < owLo; q++) row[q] = 0f;
                            for (var q = owHi; q < ow; q++) row[q] = 0f;
                        }
                        var start = (ohLo - oh0) * ow + owLo;
                        var length = (ohHi - 1 - oh0) * ow + owHi - start;
                        ConvSimd.Add(src + start, dst + (ohLo + dh) * w + owLo + dw, length);
                        continue;
                    }

                    for (var r = ohLo; r < ohHi; r++)
                    {
                        var row = src + (r - oh0) * ow;
                        var dstRow = dst + (r * g.StrideH + dh) * w + dw;
                        if (g.StrideW == 1)
                        {
                            ConvSimd.Add(row + owLo, dstRow + owLo, owHi - owLo);
                        }
                        else
                        {
                            var sw = g.StrideW;
                            for (var q = owLo; q < owHi; q++) dstRow[q * sw] += row[q];
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// The output positions o in [lo, hi) for which o·stride + offset lies inside [0, size), clipped to [0, outSize).
    /// </summary>
    internal static void RowRange(int offset, int stride, int size, int outSize, out int lo, out int hi)
    {
        // o ≥ ceil(−offset / stride) and o ≤ floor((size − 1 − offset) / stride).
        lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
        var top = size - 1 - offset;
        hi = top < 0 ? 0 : top / stride + 1;
        lo = Math.Min(lo, outSize);
        hi = Math.Clamp(hi, lo, outSize);
    }
}
