using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Acp.Engine.Kernels;

/// <summary>
/// The column transform behind the GEMM convolution. For one image and one group, the column matrix has a row per
/// (input channel c, tap kh, tap kw) and a column per output pixel (oh, ow); entry = x[c, oh·sh − pt + kh·dh,
/// ow·sw − pl + kw·dw], or 0 in the padding. Both directions work on a band of output rows [oh0, oh1), written at a
/// column offset inside a wider matrix (row stride ld), so that several images can sit side by side in one GEMM.
/// </summary>
/// <remarks>
/// With strides above 1 the input planes are first split by phase: phase (rh, rw) holds the pixels whose row ≡ rh
/// (mod sh) and column ≡ rw (mod sw), as a dense Hq×Wq plane. Every tap then reads a phase plane at unit stride, so
/// a strided layer packs with the same contiguous copies as a stride-1 layer instead of element-by-element gathers.
/// When a phase plane is exactly OW wide (which "same"-style padding gives), consecutive output rows read
/// consecutive plane rows and a whole band of a column row is one copy, plus zeroing the few columns that wrap.
/// </remarks>
internal readonly unsafe struct Im2Col
{
    private readonly int h, w, sh, sw, outH, outW, kh, kw, dh, dw, pt, pl;

    public Im2Col(in ConvGeometry g)
    {
        h = g.InHeight;
        w = g.InWidth;
        sh = g.StrideH;
        sw = g.StrideW;
        outH = g.OutHeight;
        outW = g.OutWidth;
        kh = g.KernelHeight;
        kw = g.KernelWidth;
        dh = g.DilationH;
        dw = g.DilationW;
        pt = g.PadTop;
        pl = g.PadLeft;
        Split = sh > 1 || sw > 1;
        PhaseHeight = (h + sh - 1) / sh;
        PhaseWidth = (w + sw - 1) / sw;
        ChannelLength = Split ? sh * sw * PhaseHeight * PhaseWidth : h * w;
    }

    /// <summary>Whether sources are phase-split planes (stride above 1) rather than the input planes themselves.</summary>
    public bool Split { get; }

    /// <summary>Rows of one phase plane, ⌈H / sh⌉.</summary>
    public int PhaseHeight { get; }

    /// <summary>Columns of one phase plane, ⌈W / sw⌉.</summary>
    public int PhaseWidth { get; }

    /// <summary>Floats per channel of a source (phase-split planes, or the plain plane without striding).</summary>
    public int ChannelLength { get; }

    /// <summary>The input rows [ih0, ih1) that output rows [oh0, oh1) read.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void InputRows(int oh0, int oh1, out int ih0, out int ih1)
    {
        ih0 = Math.Max(0, oh0 * sh - pt);
        ih1 = Math.Min(h, (oh1 - 1) * sh - pt + (kh - 1) * dh + 1);
    }

    /// <summary>
    /// Writes input rows [ih0, ih1) of the channel planes at x into their phase planes at dst (ChannelLength floats
    /// per channel); other slots are left as they are.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void SplitPhases(float* x, int channels, int ih0, int ih1, float* dst)
    {
        var phasePlane = PhaseHeight * PhaseWidth;
        for (var c = 0; c < channels; c++)
        {
            var src = x + (long)c * h * w;
            var channel = dst + (long)c * ChannelLength;
            for (var ih = ih0; ih < ih1; ih++)
            {
                var rh = ih % sh;
                var row = src + (long)ih * w;
                var target = channel + rh * sw * phasePlane + ih / sh * PhaseWidth;
                if (sw == 1)
                {
                    ConvSimd.Copy(row, target, w);
                }
                else if (sw == 2)
                {
                    Deinterleave(row, w, target, target + phasePlane);
                }
                else
                {
                    for (var iw = 0; iw < w; iw++) target[iw % sw * phasePlane + iw / sw] = row[iw];
                }
            }
        }
    }

    /// <summary>The inverse of <see cref="SplitPhases"/>: writes every pixel of the channel planes at dx from its phase slot.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void MergePhases(float* src, int channels, float* dx)
    {
        var phasePlane = PhaseHeight * PhaseWidth;
        for (var c = 0; c < channels; c++)
        {
            var dst = dx + (long)c * h * w;
            var channel = src + (long)c * ChannelLength;
            for (var ih = 0; ih < h; ih++)
            {
                var row = dst + (long)ih * w;
                var source = channel + ih % sh * sw * phasePlane + ih / sh * PhaseWidth;
                if (sw == 1)
                {
                    ConvSimd.Copy(source, row, w);
                }
                else if (sw == 2)
                {
                    Interleave(source, source + phasePlane, row, w);
                }
                else
                {
                    for (var iw = 0; iw < w; iw++) row[iw] = source[iw % sw * phasePlane + iw / sw];
                }
            }
        }
    }

    /// <summary>
    /// Fills the column rows of channels [0, channels) for output rows [oh0, oh1): column (oh − oh0)·OW + ow of each
    /// row, rows ld floats apart. src holds the channels' sources (<see cref="ChannelLength"/> floats each).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Pack(float* src, int channels, int oh0, int oh1, float* col, int ld)
    {
        var cols = (oh1 - oh0) * outW;
        var phasePlane = PhaseHeight * PhaseWidth;
        var srcWidth = Split ? PhaseWidth : w;
        var contiguous = outW == srcWidth;
        for (var c = 0; c < channels; c++)
        {
            for (var i = 0; i < kh; i++)
            {
                Tap(i * dh - pt, sh, h, out var rh, out var qh, out var rows);
                Valid(qh, rows, outH, out var ohLo, out var ohHi);
                ohLo = Math.Max(ohLo, oh0);
                ohHi = Math.Min(ohHi, oh1);
                for (var j = 0; j < kw; j++)
                {
                    Tap(j * dw - pl, sw, w, out var rw, out var qw, out var columns);
                    Valid(qw, columns, outW, out var owLo, out var owHi);
                    var dst = col + (long)((c * kh + i) * kw + j) * ld;
                    if (ohLo >= ohHi || owLo >= owHi)
                    {
                        ConvSimd.Zero(dst, cols);
                        continue;
                    }

                    var plane = src + (long)c * ChannelLength + (rh * sw + rw) * phasePlane;
                    ConvSimd.Zero(dst, (ohLo - oh0) * outW);
                    ConvSimd.Zero(dst + (ohHi - oh0) * outW, (oh1 - ohHi) * outW);
                    if (contiguous)
                    {
                        // One copy for the whole band; the columns it drags in from neighbouring rows are zeroed below.
                        var start = (ohLo - oh0) * outW + owLo;
                        var length = (ohHi - 1 - oh0) * outW + owHi - start;
                        ConvSimd.Copy(plane + (ohLo + qh) * srcWidth + owLo + qw, dst + start, length);
                    }
                    for (var r = ohLo; r < ohHi; r++)
                    {
                        var row = dst + (r - oh0) * outW;
                        for (var q = 0; q < owLo; q++) row[q] = 0f;
                        for (var q = owHi; q < outW; q++) row[q] = 0f;
                        if (!contiguous) ConvSimd.Copy(plane + (r + qh) * srcWidth + owLo + qw, row + owLo, owHi - owLo);
                    }
                }
            }
        }
    }

    /// <summary>
    /// The adjoint of <see cref="Pack"/>: adds each column entry back onto the source slot it was read from (entries
    /// from the padding are dropped). dst holds the channels' sources (input planes, or zeroed phase planes to be
    /// merged afterwards). The wrapped entries of col are zeroed, as col is scratch. The order is fixed, so the sums are
    /// deterministic.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Unpack(float* col, int ld, int channels, int oh0, int oh1, float* dst)
    {
        var phasePlane = PhaseHeight * PhaseWidth;
        var srcWidth = Split ? PhaseWidth : w;
        var contiguous = outW == srcWidth;
        for (var c = 0; c < channels; c++)
        {
            for (var i = 0; i < kh; i++)
            {
                Tap(i * dh - pt, sh, h, out var rh, out var qh, out var rows);
                Valid(qh, rows, outH, out var ohLo, out var ohHi);
                ohLo = Math.Max(ohLo, oh0);
                ohHi = Math.Min(ohHi, oh1);
                for (var j = 0; j < kw; j++)
                {
                    Tap(j * dw - pl, sw, w, out var rw, out var qw, out var columns);
                    Valid(qw, columns, outW, out var owLo, out var owHi);
                    if (ohLo >= ohHi || owLo >= owHi) continue;
                    var src = col + (long)((c * kh + i) * kw + j) * ld;
                    var plane = dst + (long)c * ChannelLength + (rh * sw + rw) * phasePlane;
                    if (contiguous)
                    {
                        // Zero what would wrap into the neighbouring row, then add one long stretch: adding +0 leaves
                        // the wrapped-onto elements unchanged.
                        for (var r = ohLo; r < ohHi; r++)
                        {
                            var row = src + (r - oh0) * outW;
                            for (var q = 0; q < owLo; q++) row[q] = 0f;
                            for (var q = owHi; q < outW; q++) row[q] = 0f;
                        }
                        var start = (ohLo - oh0) * outW + owLo;
                        var length = (ohHi - 1 - oh0) * outW + owHi - start;
                        ConvSimd.Add(src + start, plane + (ohLo + qh) * srcWidth + owLo + qw, length);
                        continue;
                    }
                    for (var r = ohLo; r < ohHi; r++)
                    {
                        ConvSimd.Add(src + (r - oh0) * outW + owLo, plane + (r + qh) * srcWidth + owLo + qw, owHi - owLo);
                    }
                }
            }
        }
    }

    /// <summary>
    /// Splits the input offset o·stride + offset of one tap into its phase r = (offset mod stride), the shift q with
    /// offset = q·stride + r, and the number of input positions in that phase, ⌈(size − r) / stride⌉.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tap(int offset, int stride, int size, out int phase, out int shift, out int count)
    {
        phase = ((offset % stride) + stride) % stride;
        shift = (offset - phase) / stride;
        count = (size - phase + stride - 1) / stride;
    }

    /// <summary>The outputs o in [0, outSize) with 0 ≤ o + shift &lt; count.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Valid(int shift, int count, int outSize, out int lo, out int hi)
    {
        lo = Math.Clamp(-shift, 0, outSize);
        hi = Math.Clamp(count - shift, lo, outSize);
    }

    /// <summary>even[j] = row[2j], odd[j] = row[2j + 1]. Vector steps of 32, 16 and 8 inputs, since rows are often short (28, 14).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Deinterleave(float* row, int width, float* even, float* odd)
    {
        var j = 0;
        if (Avx512F.IsSupported)
        {
            var evenIndex = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            var oddIndex = Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
            for (; 2 * j + 32 <= width; j += 16)
            {
                var a = Vector512.Load(row + 2 * j);
                var b = Vector512.Load(row + 2 * j + 16);
                Avx512F.PermuteVar16x32x2(a, evenIndex, b).Store(even + j);
                Avx512F.PermuteVar16x32x2(a, oddIndex, b).Store(odd + j);
            }
            if (2 * j + 16 <= width)
            {
                var split = Avx512F.PermuteVar16x32(Vector512.Load(row + 2 * j), Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15));
                split.GetLower().Store(even + j);
                split.GetUpper().Store(odd + j);
                j += 8;
            }
        }
        if (Avx2.IsSupported && 2 * j + 8 <= width)
        {
            var split = Avx2.PermuteVar8x32(Vector256.Load(row + 2 * j), Vector256.Create(0, 2, 4, 6, 1, 3, 5, 7));
            split.GetLower().Store(even + j);
            split.GetUpper().Store(odd + j);
            j += 4;
        }
        for (; 2 * j < width; j++)
        {
            even[j] = row[2 * j];
            if (2 * j + 1 < width) odd[j] = row[2 * j + 1];
        }
    }

    /// <summary>row[2j] = even[j], row[2j + 1] = odd[j].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Interleave(float* even, float* odd, float* row, int width)
    {
        var j = 0;
        if (Avx512F.IsSupported)
        {
            var lowIndex = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
            var highIndex = Vector512.Create(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
            for (; 2 * j + 32 <= width; j += 16)
            {
                var a = Vector512.Load(even + j);
                var b = Vector512.Load(odd + j);
                Avx512F.PermuteVar16x32x2(a, lowIndex, b).Store(row + 2 * j);
                Avx512F.PermuteVar16x32x2(a, highIndex, b).Store(row + 2 * j + 16);
            }
            if (2 * j + 16 <= width)
            {
                var both = Vector512.Create(Vector256.Load(even + j), Vector256.Load(odd + j));
                Avx512F.PermuteVar16x32(both, Vector512.Create(0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15)).Store(row + 2 * j);
                j += 8;
            }
        }
        if (Avx2.IsSupported && 2 * j + 8 <= width)
        {
            var both = Vector256.Create(Vector128.Load(even + j), Vector128.Load(odd + j));
            Avx2.PermuteVar8x32(both, Vector256.Create(0, 4, 1, 5, 2, 6, 3, 7)).Store(row + 2 * j);
            j += 4;
        }
        for (; 2 * j < width; j++)
        {
            row[2 * j] = even[j];
            if (2 * j + 1 < width) row[2 * j + 1] = odd[j];
        }
    }

    /// <summary>
    /// The output positions o in [lo, hi) for which o·stride + offset lies inside [0, size), clipped to [0, outSize).
    /// Used by the pooling kernels to clip windows.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
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
