namespace Acp.Engine.Tests.Elementwise;

/// <summary>
/// Naive double-precision softmax and losses written from their textbook definitions (explicit target vectors,
/// explicit log-probabilities), independent of the kernels' rearranged formulas.
/// </summary>
internal static class ReferenceLosses
{
    public static double[] Softmax(int n, int classes, double[] x)
    {
        var y = new double[n * classes];
        for (var i = 0; i < n; i++)
        {
            var max = double.NegativeInfinity;
            for (var k = 0; k < classes; k++)
            {
                max = Math.Max(max, x[i * classes + k]);
            }

            var sum = 0.0;
            for (var k = 0; k < classes; k++)
            {
                sum += Math.Exp(x[i * classes + k] - max);
            }

            for (var k = 0; k < classes; k++)
            {
                y[i * classes + k] = Math.Exp(x[i * classes + k] - max) / sum;
            }
        }

        return y;
    }

    /// <summary>Mean over rows of −Σ_k t_k log p_k with t = (1 − ε)·onehot + ε/K, and its gradient (p − t)/n.</summary>
    public static (double Loss, double[] Grad) CrossEntropy(int n, int classes, double[] logits, int[] labels, double smoothing)
    {
        var p = Softmax(n, classes, logits);
        var loss = 0.0;
        var grad = new double[n * classes];
        for (var i = 0; i < n; i++)
        {
            for (var k = 0; k < classes; k++)
            {
                var target = (k == labels[i] ? 1 - smoothing : 0) + smoothing / classes;
                loss -= target * Math.Log(p[i * classes + k]);
                grad[i * classes + k] = (p[i * classes + k] - target) / n;
            }
        }

        return (loss / n, grad);
    }

    /// <summary>T²·(1/n)·Σ_i KL(softmax(t_i/T) ‖ softmax(s_i/T)), and the gradient T·(q − p)/n w.r.t. the student.</summary>
    public static (double Loss, double[] Grad) Distillation(int n, int classes, double[] student, double[] teacher, double temperature)
    {
        var s = student.Select(v => v / temperature).ToArray();
        var t = teacher.Select(v => v / temperature).ToArray();
        var q = Softmax(n, classes, s);
        var p = Softmax(n, classes, t);
        var loss = 0.0;
        var grad = new double[n * classes];
        for (var k = 0; k < n * classes; k++)
        {
            if (p[k] > 0)
            {
                loss += p[k] * (Math.Log(p[k]) - Math.Log(q[k]));
            }

            grad[k] = temperature * (q[k] - p[k]) / n;
        }

        return (temperature * temperature * loss / n, grad);
    }

    /// <summary>Attention map q = normalize₂(Σ_c x_c²) of each sample, [n, hw].</summary>
    public static double[] AttentionMaps(int n, int channels, int hw, double[] x)
    {
        var q = new double[n * hw];
        for (var i = 0; i < n; i++)
        {
            for (var p = 0; p < hw; p++)
            {
                for (var c = 0; c < channels; c++)
                {
                    var v = x[(i * channels + c) * hw + p];
                    q[i * hw + p] += v * v;
                }
            }

            var norm = Math.Sqrt(Enumerable.Range(0, hw).Sum(p => q[i * hw + p] * q[i * hw + p]));
            for (var p = 0; p < hw; p++)
            {
                q[i * hw + p] /= Math.Max(norm, 1e-12);
            }
        }

        return q;
    }

    public static double AttentionTransfer(int n, int cS, int cT, int hw, double[] student, double[] teacher)
    {
        var qs = AttentionMaps(n, cS, hw, student);
        var qt = AttentionMaps(n, cT, hw, teacher);
        return qs.Zip(qt, (a, b) => (a - b) * (a - b)).Sum() / n;
    }

    /// <summary>
    /// Gradient of <see cref="AttentionTransfer"/> w.r.t. the student by the chain rule with the full normalisation
    /// Jacobian ∂q_p/∂a_r = δ_pr/‖a‖ − a_p·a_r/‖a‖³, built entry by entry.
    /// </summary>
    public static double[] AttentionTransferGradient(int n, int cS, int cT, int hw, double[] student, double[] teacher)
    {
        var qs = AttentionMaps(n, cS, hw, student);
        var qt = AttentionMaps(n, cT, hw, teacher);
        var grad = new double[student.Length];
        for (var i = 0; i < n; i++)
        {
            var a = new double[hw];
            for (var p = 0; p < hw; p++)
            for (var c = 0; c < cS; c++)
            {
                var v = student[(i * cS + c) * hw + p];
                a[p] += v * v;
            }

            var norm = Math.Sqrt(a.Sum(v => v * v));
            var da = new double[hw];
            for (var r = 0; r < hw; r++)
            {
                for (var p = 0; p < hw; p++)
                {
                    var jacobian = (p == r ? 1 / norm : 0) - a[p] * a[r] / (norm * norm * norm);
                    da[r] += 2 * (qs[i * hw + p] - qt[i * hw + p]) / n * jacobian;
                }
            }

            for (var c = 0; c < cS; c++)
            for (var p = 0; p < hw; p++)
            {
                var k = (i * cS + c) * hw + p;
                grad[k] = da[p] * 2 * student[k];
            }
        }

        return grad;
    }
}
