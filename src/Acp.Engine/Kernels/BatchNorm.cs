using System.Runtime.Intrinsics;

namespace Acp.Engine.Kernels;

/// <summary>
/// Batch normalisation over NCHW buffers (ONNX BatchNormalization, PyTorch BatchNorm2d): per channel c,
/// y = scale[c]·(x − μ[c])/√(σ²[c] + eps) + bias[c]. <c>n</c> is the batch size, <c>c</c> the channel count and
/// <c>hw</c> the spatial size H·W; element (i, ch, p) lives at (i·c + ch)·hw + p. Buffers may be longer than needed.
/// </summary>
/// <remarks>
/// Per-channel sums are accumulated in double, one channel per task, images in order, so results do not depend on
/// thread scheduling: training is bit-reproducible for a seed on a given machine.
/// </remarks>
public static partial class BatchNorm
{
    /// <summary>
    /// Inference with stored statistics: y = scale[c]·(x − mean[c])/√(var[c] + eps) + bias[c], evaluated as
    /// y = a[c]·x + b[c] with a = scale/√(var + eps) and b = bias − mean·a computed in double. y may be x.
    /// </summary>
    public static void Inference(int n, int c, int hw, float[] x, float[] scale, float[] bias, float[] mean, float[] var, float eps, float[] y)
    {
        var total = CheckGeometry(n, c, hw);
        ElementwiseArgs.Length(x, total, $"n·c·hw = {n}·{c}·{hw}");
        ElementwiseArgs.Length(y, total, $"n·c·hw = {n}·{c}·{hw}");
        ElementwiseArgs.Length(scale, c, "c");
        ElementwiseArgs.Length(bias, c, "c");
        ElementwiseArgs.Length(mean, c, "c");
        ElementwiseArgs.Length(var, c, "c");

        ElementwiseParallel.For(n * c, hw, plane =>
        {
            var ch = plane % c;
            var a = scale[ch] / Math.Sqrt(var[ch] + (double)eps);
            var b = bias[ch] - mean[ch] * a;
            ElementwiseMath.Affine(x.AsSpan(plane * hw, hw), (float)a, (float)b, y.AsSpan(plane * hw, hw));
        });
    }

    /// <summary>
    /// Training-mode forward with batch statistics. Per channel, over the m = n·hw values:
    /// μ = (1/m)·Σ x, σ²_B = (1/m)·Σ (x − μ)² (biased; per-plane two-sweep moments merged pairwise, in double),
    /// savedMean[c] = μ, savedInvStd[c] = 1/√(σ²_B + eps), y = scale[c]·(x − μ)·savedInvStd[c] + bias[c].
    /// The normalisation uses the float values written to savedMean/savedInvStd, so <see cref="Backward"/> sees
    /// exactly the statistics the forward used. y may be x.
    /// </summary>
    public static void TrainingForward(int n, int c, int hw, float[] x, float[] scale, float[] bias, float eps,
        float[] savedMean, float[] savedInvStd, float[] y) =>
        TrainingForward(n, c, hw, x, scale, bias, eps, savedMean, savedInvStd, y, relu: false);

    /// <summary>
    /// <see cref="TrainingForward(int, int, int, float[], float[], float[], float, float[], float[], float[])"/>
    /// followed, when <paramref name="relu"/> is set, by y = max(0, y) on each plane while it is in cache: the same
    /// bits as a separate <see cref="Activations.ReluForward"/> pass, without the pass.
    /// </summary>
    public static void TrainingForward(int n, int c, int hw, float[] x, float[] scale, float[] bias, float eps,
        float[] savedMean, float[] savedInvStd, float[] y, bool relu)
    {
        var total = CheckGeometry(n, c, hw);
        ElementwiseArgs.Length(x, total, $"n·c·hw = {n}·{c}·{hw}");
        ElementwiseArgs.Length(y, total, $"n·c·hw = {n}·{c}·{hw}");
        ElementwiseArgs.Length(scale, c, "c");
        ElementwiseArgs.Length(bias, c, "c");
        ElementwiseArgs.Length(savedMean, c, "c");
        ElementwiseArgs.Length(savedInvStd, c, "c");
        if (c > 0 && (long)n * hw == 0)
        {
            throw new ArgumentException($"Batch statistics need at least one value per channel; n·hw = {n}·{hw} = 0.", nameof(n));
        }

        var m = (double)n * hw;
        var width = ChooseWidth();
        ElementwiseParallel.For(c, (long)n * hw, ch =>
        {
            // One read of each plane: its own sum and M2 = Σ (x − plane mean)² (two sweeps while it is in L1, as
            // accurate as the two-pass formula; E[x²] − μ² cancels catastrophically when |μ| ≫ σ, as after a
            // convolution with a large bias), merged into the channel's running (count, mean, M2) with Chan et al.'s
            // pairwise formula, images in order.
            double mean = 0, m2 = 0, seen = 0;
            unsafe
            {
                fixed (float* px = x)
                {
                    for (var i = 0; i < n; i++)
                    {
                        PlaneMoments(px + (long)(i * c + ch) * hw, hw, width, out var planeSum, out var planeM2);
                        var planeMean = planeSum / hw;
                        var total = seen + hw;
                        var delta = planeMean - mean;
                        mean += delta * hw / total;
                        m2 += planeM2 + delta * delta * seen * hw / total;
                        seen = total;
                    }
                }
            }

            savedMean[ch] = (float)mean;
            savedInvStd[ch] = (float)(1.0 / Math.Sqrt(m2 / m + eps));
        });

        var planes = PlanesPerItem(hw);
        ElementwiseParallel.For(CeilDiv(n * c, planes), (long)planes * hw, item =>
        {
            unsafe
            {
                fixed (float* px = x, py = y)
                {
                    for (var plane = item * planes; plane < Math.Min(n * c, (item + 1) * planes); plane++)
                    {
                        var ch = plane % c;
                        PlaneNormalize(px + (long)plane * hw, hw, savedMean[ch], (float)((double)scale[ch] * savedInvStd[ch]), bias[ch], relu,
                            py + (long)plane * hw, width);
                    }
                }
            }
        });
    }

    /// <summary>
    /// Folds the statistics of a <see cref="TrainingForward"/> into the running statistics, for the
    /// <c>runningMean.Length</c> channels (running statistics are model state of exactly C elements, not pooled
    /// buffers; use <see cref="UpdateRunningStatistics(int, int, float[], float[], float, float, float[], float[])"/>
    /// when they may be longer). See that overload for the formulas.
    /// </summary>
    public static void UpdateRunningStatistics(int count, float[] savedMean, float[] savedInvStd, float eps, float momentum,
        float[] runningMean, float[] runningVar)
    {
        ArgumentNullException.ThrowIfNull(runningMean);
        UpdateRunningStatistics(runningMean.Length, count, savedMean, savedInvStd, eps, momentum, runningMean, runningVar);
    }

    /// <summary>
    /// Folds batch statistics into running statistics with the ONNX momentum convention, per channel c:
    /// runningMean = momentum·runningMean + (1 − momentum)·μ and
    /// runningVar = momentum·runningVar + (1 − momentum)·σ²_B·count/(count − 1),
    /// where μ = savedMean[c], the biased batch variance σ²_B = 1/savedInvStd[c]² − eps (clamped at 0) and
    /// count = n·hw values per channel. The variance is made unbiased like PyTorch's. PyTorch's BatchNorm momentum
    /// m_pt weights the batch instead (running = (1 − m_pt)·running + m_pt·batch), so PyTorch's default 0.1 is ONNX
    /// momentum 0.9 here: pass 1 − m_pt.
    /// </summary>
    /// <exception cref="ArgumentException">count ≤ 1: the unbiased variance is undefined (PyTorch refuses to train
    /// BatchNorm with one value per channel for the same reason).</exception>
    public static void UpdateRunningStatistics(int channels, int count, float[] savedMean, float[] savedInvStd, float eps, float momentum,
        float[] runningMean, float[] runningVar)
    {
        ElementwiseArgs.NonNegative(channels);
        if (count < 2)
        {
            throw new ArgumentException(
                $"The unbiased batch variance needs more than one value per channel; count = n·hw = {count}.", nameof(count));
        }

        ElementwiseArgs.Length(savedMean, channels, "channels");
        ElementwiseArgs.Length(savedInvStd, channels, "channels");
        ElementwiseArgs.Length(runningMean, channels, "channels");
        ElementwiseArgs.Length(runningVar, channels, "channels");

        var correction = count / (count - 1.0);
        for (var ch = 0; ch < channels; ch++)
        {
            var invStd = (double)savedInvStd[ch];
            var biased = Math.Max(0.0, 1.0 / (invStd * invStd) - eps);
            runningMean[ch] = (float)(momentum * (double)runningMean[ch] + (1.0 - momentum) * savedMean[ch]);
            runningVar[ch] = (float)(momentum * (double)runningVar[ch] + (1.0 - momentum) * biased * correction);
        }
    }

    /// <summary>
    /// Gradients of the training-mode forward, with x̂ = (x − μ)·s (μ = savedMean[c], s = savedInvStd[c]) and
    /// m = n·hw: dbias[c] = Σ dy, dscale[c] = Σ dy·x̂, and
    /// dx = scale[c]·s·(dy − dbias[c]/m − x̂·dscale[c]/m). Sums are in double, images in order, one channel per
    /// task, so the result is bitwise reproducible. Any of dx, dscale, dbias may be null when not needed; dx may
    /// be the same array as dy or x (each chunk is read before it is written).
    /// </summary>
    public static void Backward(int n, int c, int hw, float[] x, float[] dy, float[] scale, float[] savedMean, float[] savedInvStd,
        float[]? dx, float[]? dscale, float[]? dbias) =>
        Backward(n, c, hw, x, dy, scale, savedMean, savedInvStd, dx, dscale, dbias, reluOutput: null);

    /// <summary>
    /// The backward pass of BatchNormalization followed by ReLU: when <paramref name="reluOutput"/> (the ReLU's
    /// output, y = max(0, BN(x))) is given, <paramref name="dy"/> is the gradient of the ReLU's output and is gated
    /// to dy·[reluOutput &gt; 0] as it is read (ReLU′(0) = 0, as <see cref="Activations.ReluBackward"/>), so the
    /// gated gradient is never written. The result has the same bits as the two passes apart. dx must not alias
    /// reluOutput.
    /// </summary>
    public static void Backward(int n, int c, int hw, float[] x, float[] dy, float[] scale, float[] savedMean, float[] savedInvStd,
        float[]? dx, float[]? dscale, float[]? dbias, float[]? reluOutput)
    {
        var total = CheckGeometry(n, c, hw);
        ElementwiseArgs.Length(x, total, $"n·c·hw = {n}·{c}·{hw}");
        ElementwiseArgs.Length(dy, total, $"n·c·hw = {n}·{c}·{hw}");
        ElementwiseArgs.OptionalLength(dx, total, $"n·c·hw = {n}·{c}·{hw}");
        ElementwiseArgs.Length(scale, c, "c");
        ElementwiseArgs.Length(savedMean, c, "c");
        ElementwiseArgs.Length(savedInvStd, c, "c");
        ElementwiseArgs.OptionalLength(dscale, c, "c");
        ElementwiseArgs.OptionalLength(dbias, c, "c");
        ElementwiseArgs.OptionalLength(reluOutput, total, $"n·c·hw = {n}·{c}·{hw}");
        if (reluOutput is not null && ReferenceEquals(reluOutput, dx))
        {
            throw new ArgumentException("dx must not be the ReLU output it is gated by.", nameof(dx));
        }
        if (c > 0 && (long)n * hw == 0)
        {
            throw new ArgumentException($"BatchNorm backward needs at least one value per channel; n·hw = {n}·{hw} = 0.", nameof(n));
        }

        var m = (double)n * hw;
        var k1 = new float[c];
        var k2 = new float[c];
        var k3 = new float[c];
        var width = ChooseWidth();
        ElementwiseParallel.For(c, 2L * n * hw, ch =>
        {
            double mu = savedMean[ch], s = savedInvStd[ch];
            double sumDy = 0, sumDyCentered = 0;
            unsafe
            {
                // With a ReLU after the normalisation, dy is gated by the ReLU's output as it is read: the sums see
                // exactly the values a separate ReLU pass would have written.
                fixed (float* pdy = dy, px = x, pr = reluOutput)
                {
                    for (var i = 0; i < n; i++)
                    {
                        var offset = (long)(i * c + ch) * hw;
                        PlaneGradientSums(pdy + offset, px + offset, pr is null ? null : pr + offset, hw, mu, width, out var planeDy, out var planeCentered);
                        sumDy += planeDy;
                        sumDyCentered += planeCentered;
                    }
                }
            }

            if (dbias is not null)
            {
                dbias[ch] = (float)sumDy;
            }

            if (dscale is not null)
            {
                dscale[ch] = (float)(sumDyCentered * s);
            }

            // dx = k1·dy + k2·(x − μ) + k3, the formula above with x̂ = (x − μ)·s expanded.
            var gain = scale[ch] * s;
            k1[ch] = (float)gain;
            k2[ch] = (float)(-gain * s * s * sumDyCentered / m);
            k3[ch] = (float)(-gain * sumDy / m);
        });

        if (dx is null)
        {
            return;
        }

        var planes = PlanesPerItem(hw);
        ElementwiseParallel.For(CeilDiv(n * c, planes), 3L * planes * hw, item =>
        {
            unsafe
            {
                fixed (float* pdy = dy, px = x, pr = reluOutput, pdx = dx)
                {
                    for (var plane = item * planes; plane < Math.Min(n * c, (item + 1) * planes); plane++)
                    {
                        var ch = plane % c;
                        var offset = (long)plane * hw;
                        PlaneInputGradient(pdy + offset, px + offset, pr is null ? null : pr + offset, hw, savedMean[ch], k1[ch], k2[ch], k3[ch],
                            pdx + offset, width);
                    }
                }
            }
        });
    }

    /// <summary>
    /// Planes per parallel work item of the elementwise passes: about 4 Ki floats, so 7×7 planes do not pay a
    /// delegate call and a scheduling step for every 49 values.
    /// </summary>
    private static int PlanesPerItem(int hw) => Math.Max(1, 4096 / Math.Max(1, hw));

    private static int CeilDiv(int a, int b) => (a + b - 1) / b;

    private static long CheckGeometry(int n, int c, int hw)
    {
        ElementwiseArgs.NonNegative(n);
        ElementwiseArgs.NonNegative(c);
        ElementwiseArgs.NonNegative(hw);
        var total = (long)n * c * hw;
        if (total > Array.MaxLength)
        {
            throw new ArgumentException($"n·c·hw = {n}·{c}·{hw} = {total} exceeds the largest array.", nameof(n));
        }

        return total;
    }
}
