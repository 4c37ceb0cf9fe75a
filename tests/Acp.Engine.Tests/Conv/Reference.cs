using Acp.Engine.Kernels;

namespace Acp.Engine.Tests.Conv;

/// <summary>
/// Naive double-precision convolution and pooling, written straight from the definitions with no cleverness, so that
/// they can be trusted by reading (and are checked against finite differences in <see cref="ReferenceGradientTests"/>).
/// Output sizes come from the geometry records, whose formulas are checked separately against ONNX Runtime.
/// </summary>
internal static class Reference
{
    public static double[] ConvForward(ConvGeometry g, double[] x, double[] w, double[]? bias)
    {
        int oh = g.OutHeight, ow = g.OutWidth, cgi = g.InChannelsPerGroup, cgo = g.OutChannelsPerGroup;
        var y = new double[g.Batch * g.OutChannels * oh * ow];
        for (var n = 0; n < g.Batch; n++)
        for (var co = 0; co < g.OutChannels; co++)
        for (var i = 0; i < oh; i++)
        for (var j = 0; j < ow; j++)
        {
            var sum = bias?[co] ?? 0.0;
            var grp = co / cgo;
            for (var ci = 0; ci < cgi; ci++)
            for (var kh = 0; kh < g.KernelHeight; kh++)
            for (var kw = 0; kw < g.KernelWidth; kw++)
            {
                var ih = i * g.StrideH - g.PadTop + kh * g.DilationH;
                var iw = j * g.StrideW - g.PadLeft + kw * g.DilationW;
                if (ih < 0 || ih >= g.InHeight || iw < 0 || iw >= g.InWidth) continue;
                sum += x[XIndex(g, n, grp * cgi + ci, ih, iw)] * w[WIndex(g, co, ci, kh, kw)];
            }
            y[((n * g.OutChannels + co) * oh + i) * ow + j] = sum;
        }
        return y;
    }

    /// <summary>∂(Σ dy ⊙ y)/∂x: every product of the forward pass sends dy back to the x element it read.</summary>
    public static double[] ConvBackwardData(ConvGeometry g, double[] dy, double[] w)
    {
        int oh = g.OutHeight, ow = g.OutWidth, cgi = g.InChannelsPerGroup, cgo = g.OutChannelsPerGroup;
        var dx = new double[g.Batch * g.InChannels * g.InHeight * g.InWidth];
        for (var n = 0; n < g.Batch; n++)
        for (var co = 0; co < g.OutChannels; co++)
        for (var i = 0; i < oh; i++)
        for (var j = 0; j < ow; j++)
        {
            var grad = dy[((n * g.OutChannels + co) * oh + i) * ow + j];
            var grp = co / cgo;
            for (var ci = 0; ci < cgi; ci++)
            for (var kh = 0; kh < g.KernelHeight; kh++)
            for (var kw = 0; kw < g.KernelWidth; kw++)
            {
                var ih = i * g.StrideH - g.PadTop + kh * g.DilationH;
                var iw = j * g.StrideW - g.PadLeft + kw * g.DilationW;
                if (ih < 0 || ih >= g.InHeight || iw < 0 || iw >= g.InWidth) continue;
                dx[XIndex(g, n, grp * cgi + ci, ih, iw)] += grad * w[WIndex(g, co, ci, kh, kw)];
            }
        }
        return dx;
    }

    /// <summary>∂(Σ dy ⊙ y)/∂w and ∂/∂bias.</summary>
    public static (double[] Dw, double[] Dbias) ConvBackwardFilter(ConvGeometry g, double[] x, double[] dy)
    {
        int oh = g.OutHeight, ow = g.OutWidth, cgi = g.InChannelsPerGroup, cgo = g.OutChannelsPerGroup;
        var dw = new double[g.OutChannels * cgi * g.KernelHeight * g.KernelWidth];
        var db = new double[g.OutChannels];
        for (var n = 0; n < g.Batch; n++)
        for (var co = 0; co < g.OutChannels; co++)
        for (var i = 0; i < oh; i++)
        for (var j = 0; j < ow; j++)
        {
            var grad = dy[((n * g.OutChannels + co) * oh + i) * ow + j];
            db[co] += grad;
            var grp = co / cgo;
            for (var ci = 0; ci < cgi; ci++)
            for (var kh = 0; kh < g.KernelHeight; kh++)
            for (var kw = 0; kw < g.KernelWidth; kw++)
            {
                var ih = i * g.StrideH - g.PadTop + kh * g.DilationH;
                var iw = j * g.StrideW - g.PadLeft + kw * g.DilationW;
                if (ih < 0 || ih >= g.InHeight || iw < 0 || iw >= g.InWidth) continue;
                dw[WIndex(g, co, ci, kh, kw)] += grad * x[XIndex(g, n, grp * cgi + ci, ih, iw)];
            }
        }
        return (dw, db);
    }

    /// <summary>Max pooling; the index is the flat NCHW index of the first maximal input element of the window (−1 if none).</summary>
    public static (double[] Y, int[] Argmax) MaxPool(PoolGeometry g, double[] x)
    {
        int oh = g.OutHeight, ow = g.OutWidth;
        var y = new double[g.Batch * g.Channels * oh * ow];
        var argmax = new int[y.Length];
        for (var p = 0; p < g.Batch * g.Channels; p++)
        for (var i = 0; i < oh; i++)
        for (var j = 0; j < ow; j++)
        {
            var best = double.NegativeInfinity;
            var index = -1;
            foreach (var (ih, iw) in Taps(g, i, j))
            {
                if (ih < 0 || ih >= g.InHeight || iw < 0 || iw >= g.InWidth) continue;
                var at = (p * g.InHeight + ih) * g.InWidth + iw;
                if (index < 0 || x[at] > best)
                {
                    best = x[at];
                    index = at;
                }
            }
            y[(p * oh + i) * ow + j] = best;
            argmax[(p * oh + i) * ow + j] = index;
        }
        return (y, argmax);
    }

    public static double[] MaxPoolBackward(PoolGeometry g, double[] dy, int[] argmax)
    {
        var dx = new double[g.Batch * g.Channels * g.InHeight * g.InWidth];
        for (var o = 0; o < dy.Length; o++)
        {
            if (argmax[o] >= 0) dx[argmax[o]] += dy[o];
        }
        return dx;
    }

    public static double[] AveragePool(PoolGeometry g, double[] x)
    {
        int oh = g.OutHeight, ow = g.OutWidth;
        var y = new double[g.Batch * g.Channels * oh * ow];
        for (var p = 0; p < g.Batch * g.Channels; p++)
        for (var i = 0; i < oh; i++)
        for (var j = 0; j < ow; j++)
        {
            var sum = 0.0;
            var count = 0;
            foreach (var (ih, iw) in Taps(g, i, j))
            {
                var inside = ih >= 0 && ih < g.InHeight && iw >= 0 && iw < g.InWidth;
                if (inside) sum += x[(p * g.InHeight + ih) * g.InWidth + iw];
                if (inside || (g.CountIncludePad && InsidePadded(g, ih, iw))) count++;
            }
            y[(p * oh + i) * ow + j] = count > 0 ? sum / count : 0;
        }
        return y;
    }

    public static double[] AveragePoolBackward(PoolGeometry g, double[] dy)
    {
        int oh = g.OutHeight, ow = g.OutWidth;
        var dx = new double[g.Batch * g.Channels * g.InHeight * g.InWidth];
        for (var p = 0; p < g.Batch * g.Channels; p++)
        for (var i = 0; i < oh; i++)
        for (var j = 0; j < ow; j++)
        {
            var count = 0;
            foreach (var (ih, iw) in Taps(g, i, j))
            {
                var inside = ih >= 0 && ih < g.InHeight && iw >= 0 && iw < g.InWidth;
                if (inside || (g.CountIncludePad && InsidePadded(g, ih, iw))) count++;
            }
            if (count == 0) continue;
            foreach (var (ih, iw) in Taps(g, i, j))
            {
                if (ih < 0 || ih >= g.InHeight || iw < 0 || iw >= g.InWidth) continue;
                dx[(p * g.InHeight + ih) * g.InWidth + iw] += dy[(p * oh + i) * ow + j] / count;
            }
        }
        return dx;
    }

    public static double[] GlobalAverage(int planes, int hw, double[] x)
    {
        var y = new double[planes];
        for (var p = 0; p < planes; p++)
        {
            for (var k = 0; k < hw; k++) y[p] += x[p * hw + k];
            y[p] /= hw;
        }
        return y;
    }

    public static double[] GlobalAverageBackward(int planes, int hw, double[] dy)
    {
        var dx = new double[planes * hw];
        for (var p = 0; p < planes; p++)
        for (var k = 0; k < hw; k++) dx[p * hw + k] = dy[p] / hw;
        return dx;
    }

    private static IEnumerable<(int Ih, int Iw)> Taps(PoolGeometry g, int i, int j)
    {
        for (var kh = 0; kh < g.KernelHeight; kh++)
        for (var kw = 0; kw < g.KernelWidth; kw++)
        {
            yield return (i * g.StrideH - g.PadTop + kh * g.DilationH, j * g.StrideW - g.PadLeft + kw * g.DilationW);
        }
    }

    private static bool InsidePadded(PoolGeometry g, int ih, int iw) =>
        ih >= -g.PadTop && ih < g.InHeight + g.PadBottom && iw >= -g.PadLeft && iw < g.InWidth + g.PadRight;

    private static int XIndex(ConvGeometry g, int n, int c, int h, int w) => ((n * g.InChannels + c) * g.InHeight + h) * g.InWidth + w;

    private static int WIndex(ConvGeometry g, int co, int ci, int kh, int kw) =>
        ((co * g.InChannelsPerGroup + ci) * g.KernelHeight + kh) * g.KernelWidth + kw;
}
