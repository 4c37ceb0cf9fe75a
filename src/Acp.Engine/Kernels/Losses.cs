using System.Buffers;
using System.Numerics.Tensors;

namespace Acp.Engine.Kernels;

/// <summary>
/// Row-wise softmax and the training losses, on row-major [n, classes] logits (or NCHW feature maps for
/// <see cref="AttentionTransfer"/>). Losses return the batch mean as a float and, when a gradient buffer is given,
/// overwrite it with the gradient of that mean. Per-row sums are in double and the batch mean adds the rows in order,
/// so results are bitwise reproducible. Buffers may be longer than needed.
/// </summary>
public static class Losses
{
    /// <summary>
    /// Denominator floor of the attention-map normalisation, as torch.nn.functional.normalize's default eps:
    /// q = a / max(‖a‖₂, 1e-12).
    /// </summary>
    public const double AttentionNormEpsilon = 1e-12;

    /// <summary>
    /// y[i, k] = exp(x[i, k] − m_i) / Σ_j exp(x[i, j] − m_i) with m_i = max_j x[i, j] (subtracting the row maximum keeps
    /// exp from overflowing; the result is the same). y may be x.
    /// </summary>
    public static void Softmax(int n, int classes, float[] x, float[] y)
    {
        var total = CheckRows(n, classes);
        ElementwiseArgs.Length(x, total, $"n·classes = {n}·{classes}");
        ElementwiseArgs.Length(y, total, $"n·classes = {n}·{classes}");
        if (classes == 0)
        {
            return;
        }

        ElementwiseParallel.For(n, 3L * classes, i =>
        {
            var row = x.AsSpan(i * classes, classes);
            var dst = y.AsSpan(i * classes, classes);
            var max = TensorPrimitives.Max(row);
            TensorPrimitives.Subtract(row, max, dst);
            TensorPrimitives.Exp(dst, dst);
            TensorPrimitives.Divide(dst, (float)DoubleReductions.Sum(dst), dst);
        });
    }

    /// <summary>
    /// Cross-entropy of softmax(logits) against label-smoothed targets, averaged over the batch (PyTorch's
    /// <c>F.cross_entropy(logits, labels, label_smoothing=ε)</c>): with K = classes, p = softmax(logits row) and
    /// t_k = (1 − ε)·[k = label] + ε/K,
    /// loss = (1/n)·Σ_i −Σ_k t_k·log p_k = (1/n)·Σ_i [logΣ_j e^(x_j) − (1 − ε)·x_label − (ε/K)·Σ_k x_k],
    /// and dlogits[i, k] = (p_k − t_k)/n. dlogits may be null (loss only) or the logits array itself.
    /// </summary>
    /// <exception cref="ArgumentException">A label is outside [0, classes) (the message names it and its index), ε
    /// is outside [0, 1], or a size is wrong.</exception>
    public static float SoftmaxCrossEntropy(int n, int classes, float[] logits, int[] labels, float labelSmoothing, float[]? dlogits)
    {
        ElementwiseArgs.Positive(n);
        ElementwiseArgs.Positive(classes);
        var total = CheckRows(n, classes);
        ElementwiseArgs.Length(logits, total, $"n·classes = {n}·{classes}");
        ElementwiseArgs.OptionalLength(dlogits, total, $"n·classes = {n}·{classes}");
        ElementwiseArgs.Length(labels, n, "n");
        if (!(labelSmoothing >= 0f && labelSmoothing <= 1f))
        {
            throw new ArgumentException($"labelSmoothing must be in [0, 1]; it is {labelSmoothing}.", nameof(labelSmoothing));
        }

        for (var i = 0; i < n; i++)
        {
            if ((uint)labels[i] >= (uint)classes)
            {
                throw new ArgumentException(
                    $"Label {labels[i]} at index {i} is not a class index: there are {classes} classes, so labels must be in [0, {classes - 1}].",
                    nameof(labels));
            }
        }

        double eps = labelSmoothing;
        var rowLoss = new double[n];
        var scratch = dlogits is null ? ArrayPool<float>.Shared.Rent((int)total) : null;
        try
        {
            var p = dlogits ?? scratch!;
            ElementwiseParallel.For(n, 4L * classes, i =>
            {
                var row = logits.AsSpan(i * classes, classes);
                var label = labels[i];
                var max = TensorPrimitives.Max(row);
                // Everything the loss needs from the logits is read before p (which may be the logits) is written.
                var shiftedLabel = (double)row[label] - max;
                var shiftedSum = DoubleReductions.Sum(row) - (double)classes * max;
                var e = p.AsSpan(i * classes, classes);
                TensorPrimitives.Subtract(row, max, e);
                TensorPrimitives.Exp(e, e);
                var sum = DoubleReductions.Sum(e);
                // −Σ t_k (x_k − logZ) with Σ t_k = 1, in terms of the max-shifted logits.
                rowLoss[i] = Math.Log(sum) - (1 - eps) * shiftedLabel - eps / classes * shiftedSum;
                if (dlogits is not null)
                {
                    // (p_k − t_k)/n = e_k/(sum·n) − ε/(K·n) − [k = label]·(1 − ε)/n.
                    ElementwiseMath.Affine(e, (float)(1.0 / (sum * n)), (float)(-eps / ((double)classes * n)), e);
                    e[label] -= (float)((1 - eps) / n);
                }
            });
        }
        finally
        {
            if (scratch is not null)
            {
                ArrayPool<float>.Shared.Return(scratch);
            }
        }

        return (float)(SumInOrder(rowLoss) / n);
    }

    /// <summary>
    /// Knowledge-distillation loss (Hinton et al.), PyTorch's
    /// <c>F.kl_div(F.log_softmax(s/T, 1), F.softmax(t/T, 1), reduction='batchmean')·T²</c>: with p = softmax(teacher/T)
    /// and q = softmax(student/T) per row, loss = (T²/n)·Σ_i Σ_k p_k·(log p_k − log q_k) (terms with p_k = 0 count 0),
    /// and dstudent[i, k] = (T/n)·(q_k − p_k). The teacher gets no gradient. dstudent may be null or the student array.
    /// </summary>
    public static float Distillation(int n, int classes, float[] student, float[] teacher, float temperature, float[]? dstudent)
    {
        ElementwiseArgs.Positive(n);
        ElementwiseArgs.Positive(classes);
        var total = CheckRows(n, classes);
        ElementwiseArgs.Length(student, total, $"n·classes = {n}·{classes}");
        ElementwiseArgs.Length(teacher, total, $"n·classes = {n}·{classes}");
        ElementwiseArgs.OptionalLength(dstudent, total, $"n·classes = {n}·{classes}");
        if (!(temperature > 0f) || float.IsPositiveInfinity(temperature))
        {
            throw new ArgumentException($"temperature must be positive and finite; it is {temperature}.", nameof(temperature));
        }

        double t = temperature;
        var rowLoss = new double[n];
        var scratch = ArrayPool<float>.Shared.Rent(3 * (int)total);
        try
        {
            ElementwiseParallel.For(n, 8L * classes, i =>
            {
                var q = scratch.AsSpan(3 * i * classes, classes);
                var p = scratch.AsSpan((3 * i + 1) * classes, classes);
                var diff = scratch.AsSpan((3 * i + 2) * classes, classes);
                TensorPrimitives.Divide(student.AsSpan(i * classes, classes), temperature, q);
                TensorPrimitives.Divide(teacher.AsSpan(i * classes, classes), temperature, p);
                TensorPrimitives.Subtract(p, q, diff);
                var (logZq, sumQ) = ExpShifted(q);
                var (logZp, sumP) = ExpShifted(p);
                // Σ p_k (log p_k − log q_k) = Σ p_k (t_k − s_k)/T + logZ_q − logZ_p, using Σ p_k = 1; an underflowed
                // p_k contributes exactly 0, the 0·log 0 = 0 convention of kl_div.
                rowLoss[i] = DoubleReductions.Dot(p, diff) / sumP + logZq - logZp;
                if (dstudent is not null)
                {
                    var g = dstudent.AsSpan(i * classes, classes);
                    TensorPrimitives.Multiply(q, (float)(1.0 / sumQ), q);
                    TensorPrimitives.Multiply(p, (float)(1.0 / sumP), p);
                    TensorPrimitives.Subtract(q, p, g);
                    TensorPrimitives.Multiply(g, (float)(t / n), g);
                }
            });
        }
        finally
        {
            ArrayPool<float>.Shared.Return(scratch);
        }

        return (float)(t * t * SumInOrder(rowLoss) / n);
    }

    /// <summary>
    /// Attention-transfer loss (Zagoruyko &amp; Komodakis, 2017) between feature maps of the same spatial size hw:
    /// per sample i, a(x)[p] = Σ_c x[i, c, p]² and q(x) = a / max(‖a‖₂, <see cref="AttentionNormEpsilon"/>);
    /// loss = (1/n)·Σ_i ‖q(student_i) − q(teacher_i)‖₂². The student has cS channels and the teacher cT, which may
    /// differ. dstudent (shape [n, cS, hw]) receives ∂loss/∂student:
    /// with g = 2(q_s − q_t)/n, ∂loss/∂a = (g − q_s·⟨q_s, g⟩)/‖a‖ (g/eps when ‖a‖ ≤ eps), and
    /// dstudent[i, c, p] = 2·x[i, c, p]·∂loss/∂a[p]. The authors' code also averages over the hw positions
    /// (<c>(at(x) − at(y)).pow(2).mean()</c>); this loss is hw times theirs, so scale the weight accordingly.
    /// The attention map sums x² over channels rather than averaging; normalisation makes the two identical.
    /// </summary>
    public static float AttentionTransfer(int n, int cS, int cT, int hw, float[] student, float[] teacher, float[]? dstudent)
    {
        ElementwiseArgs.Positive(n);
        ElementwiseArgs.Positive(cS);
        ElementwiseArgs.Positive(cT);
        ElementwiseArgs.Positive(hw);
        var sizeS = (long)n * cS * hw;
        var sizeT = (long)n * cT * hw;
        ElementwiseArgs.Length(student, sizeS, $"n·cS·hw = {n}·{cS}·{hw}");
        ElementwiseArgs.Length(teacher, sizeT, $"n·cT·hw = {n}·{cT}·{hw}");
        ElementwiseArgs.OptionalLength(dstudent, sizeS, $"n·cS·hw = {n}·{cS}·{hw}");

        var rowLoss = new double[n];
        ElementwiseParallel.For(n, (long)(cS + cT) * hw, i =>
        {
            var qs = ArrayPool<double>.Shared.Rent(hw);
            var qt = ArrayPool<double>.Shared.Rent(hw);
            var gate = dstudent is null ? null : ArrayPool<float>.Shared.Rent(hw);
            try
            {
                var normS = AttentionMap(student, i, cS, hw, qs.AsSpan(0, hw));
                AttentionMap(teacher, i, cT, hw, qt.AsSpan(0, hw));
                var loss = 0.0;
                for (var p = 0; p < hw; p++)
                {
                    var d = qs[p] - qt[p];
                    loss += d * d;
                }

                rowLoss[i] = loss;
                if (dstudent is null || gate is null)
                {
                    return;
                }

                // g = ∂loss/∂q_s = 2(q_s − q_t)/n; through q = a/‖a‖ the Jacobian is (I − q qᵀ)/‖a‖.
                var projection = 0.0;
                for (var p = 0; p < hw; p++)
                {
                    projection += qs[p] * 2 * (qs[p] - qt[p]) / n;
                }

                var normalised = normS > AttentionNormEpsilon;
                var denominator = normalised ? normS : AttentionNormEpsilon;
                for (var p = 0; p < hw; p++)
                {
                    var g = 2 * (qs[p] - qt[p]) / n;
                    var da = (normalised ? g - qs[p] * projection : g) / denominator;
                    // ∂a/∂x = 2x, folded in here so the per-channel loop below is a single multiply.
                    gate[p] = (float)(2 * da);
                }

                var gateSpan = gate.AsSpan(0, hw);
                for (var c = 0; c < cS; c++)
                {
                    var offset = (i * cS + c) * hw;
                    TensorPrimitives.Multiply(student.AsSpan(offset, hw), gateSpan, dstudent.AsSpan(offset, hw));
                }
            }
            finally
            {
                ArrayPool<double>.Shared.Return(qs);
                ArrayPool<double>.Shared.Return(qt);
                if (gate is not null)
                {
                    ArrayPool<float>.Shared.Return(gate);
                }
            }
        });

        return (float)(SumInOrder(rowLoss) / n);
    }

    /// <summary>
    /// Writes q = a/max(‖a‖, eps) for sample i, a[p] = Σ_c x[i, c, p]² (channels in order, in double), and returns ‖a‖.
    /// </summary>
    private static double AttentionMap(float[] x, int i, int channels, int hw, Span<double> q)
    {
        q.Clear();
        for (var c = 0; c < channels; c++)
        {
            DoubleReductions.AddSquaresTo(q, x.AsSpan((i * channels + c) * hw, hw));
        }

        var squares = 0.0;
        foreach (var v in q)
        {
            squares += v * v;
        }

        var norm = Math.Sqrt(squares);
        var scale = 1.0 / Math.Max(norm, AttentionNormEpsilon);
        for (var p = 0; p < q.Length; p++)
        {
            q[p] *= scale;
        }

        return norm;
    }

    /// <summary>Replaces v by e^(v − max v) and returns (log Σ e^v, Σ e^(v − max v)), the sum in double.</summary>
    private static (double LogSumExp, double Sum) ExpShifted(Span<float> v)
    {
        var max = TensorPrimitives.Max(v);
        TensorPrimitives.Subtract(v, max, v);
        TensorPrimitives.Exp(v, v);
        var sum = DoubleReductions.Sum(v);
        return (max + Math.Log(sum), sum);
    }

    private static double SumInOrder(double[] values)
    {
        var sum = 0.0;
        foreach (var v in values)
        {
            sum += v;
        }

        return sum;
    }

    private static long CheckRows(int n, int classes)
    {
        ElementwiseArgs.NonNegative(n);
        ElementwiseArgs.NonNegative(classes);
        var total = (long)n * classes;
        if (total > Array.MaxLength / 3)
        {
            throw new ArgumentException($"n·classes = {n}·{classes} = {total} is too large.", nameof(n));
        }

        return total;
    }
}
