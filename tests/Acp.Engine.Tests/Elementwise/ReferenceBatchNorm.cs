namespace Acp.Engine.Tests.Elementwise;

/// <summary>
/// Naive double-precision batch normalisation over NCHW, written straight from the definitions (no folding, no
/// vectorisation) to serve as the oracle for <see cref="Kernels.BatchNorm"/>.
/// </summary>
internal static class ReferenceBatchNorm
{
    public static double[] Inference(int n, int c, int hw, double[] x, double[] scale, double[] bias, double[] mean, double[] var, double eps)
    {
        var y = new double[n * c * hw];
        for (var i = 0; i < n; i++)
        for (var ch = 0; ch < c; ch++)
        for (var p = 0; p < hw; p++)
        {
            var k = (i * c + ch) * hw + p;
            y[k] = scale[ch] * (x[k] - mean[ch]) / Math.Sqrt(var[ch] + eps) + bias[ch];
        }

        return y;
    }

    /// <summary>Batch mean and biased batch variance per channel.</summary>
    public static (double[] Mean, double[] Var) Statistics(int n, int c, int hw, double[] x)
    {
        var mean = new double[c];
        var variance = new double[c];
        var m = n * hw;
        for (var ch = 0; ch < c; ch++)
        {
            for (var i = 0; i < n; i++)
            for (var p = 0; p < hw; p++)
            {
                mean[ch] += x[(i * c + ch) * hw + p];
            }

            mean[ch] /= m;
            for (var i = 0; i < n; i++)
            for (var p = 0; p < hw; p++)
            {
                var d = x[(i * c + ch) * hw + p] - mean[ch];
                variance[ch] += d * d;
            }

            variance[ch] /= m;
        }

        return (mean, variance);
    }

    public static double[] TrainingForward(int n, int c, int hw, double[] x, double[] scale, double[] bias, double eps)
    {
        var (mean, variance) = Statistics(n, c, hw, x);
        return Inference(n, c, hw, x, scale, bias, mean, variance, eps);
    }

    /// <summary>
    /// Gradients of <see cref="TrainingForward"/>, by the chain rule through μ and σ² written out term by term
    /// (∂L/∂x̂, ∂L/∂σ², ∂L/∂μ, then ∂L/∂x) rather than the kernel's simplified closed form.
    /// </summary>
    public static (double[] Dx, double[] Dscale, double[] Dbias) Backward(int n, int c, int hw, double[] x, double[] dy, double[] scale, double eps)
    {
        var (mean, variance) = Statistics(n, c, hw, x);
        var m = n * hw;
        var dx = new double[x.Length];
        var dscale = new double[c];
        var dbias = new double[c];
        for (var ch = 0; ch < c; ch++)
        {
            var std = Math.Sqrt(variance[ch] + eps);
            double dVar = 0, dMean = 0, sumCentered = 0;
            foreach (var k in Indices(n, c, hw, ch))
            {
                var xhat = (x[k] - mean[ch]) / std;
                dbias[ch] += dy[k];
                dscale[ch] += dy[k] * xhat;
                var dxhat = dy[k] * scale[ch];
                dVar += dxhat * (x[k] - mean[ch]) * -0.5 * Math.Pow(variance[ch] + eps, -1.5);
                dMean += -dxhat / std;
                sumCentered += x[k] - mean[ch];
            }

            dMean += dVar * -2.0 * sumCentered / m;
            foreach (var k in Indices(n, c, hw, ch))
            {
                dx[k] = dy[k] * scale[ch] / std + dVar * 2.0 * (x[k] - mean[ch]) / m + dMean / m;
            }
        }

        return (dx, dscale, dbias);
    }

    /// <summary>ONNX-convention running update with the unbiased batch variance.</summary>
    public static (double[] Mean, double[] Var) UpdateRunning(double[] runningMean, double[] runningVar, double[] batchMean, double[] batchBiasedVar, int count, double momentum)
    {
        var mean = new double[runningMean.Length];
        var variance = new double[runningVar.Length];
        for (var ch = 0; ch < mean.Length; ch++)
        {
            mean[ch] = momentum * runningMean[ch] + (1 - momentum) * batchMean[ch];
            variance[ch] = momentum * runningVar[ch] + (1 - momentum) * batchBiasedVar[ch] * count / (count - 1);
        }

        return (mean, variance);
    }

    private static IEnumerable<int> Indices(int n, int c, int hw, int ch)
    {
        for (var i = 0; i < n; i++)
        for (var p = 0; p < hw; p++)
        {
            yield return (i * c + ch) * hw + p;
        }
    }
}
