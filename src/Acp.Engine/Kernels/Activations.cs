using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace Acp.Engine.Kernels;

/// <summary>
/// Pointwise activations on the first <c>count</c> elements of flat buffers, forward and backward.
/// Forward: <c>XForward(count, x, y, …)</c> writes y = f(x). Backward: <c>XBackward(count, x, y, dy, dx, …)</c>
/// writes dx = f′(x)·dy, where x is the forward input and y the forward output; each method says which of the two it
/// reads, and the one it does not read may be null. Outputs may be the same array as an input (in-place), and
/// buffers may be longer than <c>count</c>.
/// </summary>
/// <remarks>
/// Gradients at kinks follow PyTorch's autograd: Relu′(0) = 0; LeakyRelu′(0) = alpha; Clip passes the gradient for
/// min ≤ x ≤ max (torch.clamp, so both bounds count as inside); HardSigmoid′ is 0 at both kinks
/// (torch.nn.functional.hardsigmoid); HardSwish′(−3) = −0.5 and HardSwish′(3) = 1.5 (torch hardswish_backward).
/// Note that PyTorch's ReLU6 module uses hardtanh, whose gradient is 0 at the bounds; this Clip passes it there.
/// </remarks>
public static class Activations
{
    /// <summary>Scratch chunk for backward passes composed of several TensorPrimitives calls; small enough for L1.</summary>
    private const int Chunk = 256;

    /// <summary>y = max(0, x).</summary>
    public static void ReluForward(int count, float[] x, float[] y)
    {
        CheckForward(count, x, y);
        ElementwiseParallel.ForBlocks(count, (start, len) =>
            TensorPrimitives.Max(x.AsSpan(start, len), 0f, y.AsSpan(start, len)));
    }

    /// <summary>dx = dy where x &gt; 0, else 0 (so Relu′(0) = 0). Reads x, not y.</summary>
    public static void ReluBackward(int count, float[] x, float[]? y, float[] dy, float[] dx)
    {
        CheckBackward(count, x, dy, dx);
        ElementwiseParallel.ForBlocks(count, (start, len) =>
            Gate(x.AsSpan(start, len), dy.AsSpan(start, len), dx.AsSpan(start, len), 0f, float.PositiveInfinity, lowInclusive: false, 0f));
    }

    /// <summary>y = x for x ≥ 0, alpha·x for x &lt; 0 (ONNX LeakyRelu; ONNX's default alpha is 0.01).</summary>
    public static void LeakyReluForward(int count, float[] x, float[] y, float alpha)
    {
        CheckForward(count, x, y);
        ElementwiseParallel.ForBlocks(count, (start, len) => LeakyRelu(x.AsSpan(start, len), x.AsSpan(start, len), y.AsSpan(start, len), alpha));
    }

    /// <summary>dx = dy where x &gt; 0, alpha·dy elsewhere (so LeakyRelu′(0) = alpha, as PyTorch). Reads x, not y.</summary>
    public static void LeakyReluBackward(int count, float[] x, float[]? y, float[] dy, float[] dx, float alpha)
    {
        CheckBackward(count, x, dy, dx);
        ElementwiseParallel.ForBlocks(count, (start, len) => LeakyRelu(x.AsSpan(start, len), dy.AsSpan(start, len), dx.AsSpan(start, len), alpha));
    }

    /// <summary>y = min(max(x, min), max) (ONNX Clip; ReLU6 is min = 0, max = 6). NaN stays NaN.</summary>
    public static void ClipForward(int count, float[] x, float[] y, float min, float max)
    {
        CheckForward(count, x, y);
        CheckBounds(min, max);
        ElementwiseParallel.ForBlocks(count, (start, len) =>
        {
            var dst = y.AsSpan(start, len);
            TensorPrimitives.Max(x.AsSpan(start, len), min, dst);
            TensorPrimitives.Min(dst, max, dst);
        });
    }

    /// <summary>dx = dy where min ≤ x ≤ max, else 0 (torch.clamp's gradient: the bounds are inside). Reads x, not y.</summary>
    public static void ClipBackward(int count, float[] x, float[]? y, float[] dy, float[] dx, float min, float max)
    {
        CheckBackward(count, x, dy, dx);
        CheckBounds(min, max);
        ElementwiseParallel.ForBlocks(count, (start, len) =>
            Gate(x.AsSpan(start, len), dy.AsSpan(start, len), dx.AsSpan(start, len), min, max, lowInclusive: true, 0f));
    }

    /// <summary>y = σ(x) = 1/(1 + e^(−x)).</summary>
    public static void SigmoidForward(int count, float[] x, float[] y)
    {
        CheckForward(count, x, y);
        ElementwiseParallel.ForBlocks(count, (start, len) => TensorPrimitives.Sigmoid(x.AsSpan(start, len), y.AsSpan(start, len)));
    }

    /// <summary>dx = dy·y·(1 − y). Reads y, not x.</summary>
    public static void SigmoidBackward(int count, float[]? x, float[] y, float[] dy, float[] dx)
    {
        CheckBackward(count, y, dy, dx);
        ElementwiseParallel.ForBlocks(count, (start, len) =>
        {
            Span<float> t = stackalloc float[Chunk];
            for (var s = start; s < start + len; s += Chunk)
            {
                var l = Math.Min(Chunk, start + len - s);
                var yy = y.AsSpan(s, l);
                var tt = t[..l];
                TensorPrimitives.Subtract(1f, yy, tt);
                TensorPrimitives.Multiply(tt, yy, tt);
                TensorPrimitives.Multiply(tt, dy.AsSpan(s, l), dx.AsSpan(s, l));
            }
        });
    }

    /// <summary>
    /// y = max(0, min(1, alpha·x + beta)) (ONNX HardSigmoid; ONNX's defaults are alpha = 0.2, beta = 0.5, PyTorch's
    /// hardsigmoid is alpha = 1/6, beta = 0.5).
    /// </summary>
    public static void HardSigmoidForward(int count, float[] x, float[] y, float alpha = 0.2f, float beta = 0.5f)
    {
        CheckForward(count, x, y);
        ElementwiseParallel.ForBlocks(count, (start, len) =>
        {
            var dst = y.AsSpan(start, len);
            ElementwiseMath.Affine(x.AsSpan(start, len), alpha, beta, dst);
            TensorPrimitives.Max(dst, 0f, dst);
            TensorPrimitives.Min(dst, 1f, dst);
        });
    }

    /// <summary>
    /// dx = alpha·dy where 0 &lt; alpha·x + beta &lt; 1 (strictly: 0 at the kinks, as PyTorch's hardsigmoid), else 0.
    /// Reads x, not y.
    /// </summary>
    public static void HardSigmoidBackward(int count, float[] x, float[]? y, float[] dy, float[] dx, float alpha = 0.2f, float beta = 0.5f)
    {
        CheckBackward(count, x, dy, dx);
        ElementwiseParallel.ForBlocks(count, (start, len) =>
        {
            var xs = x.AsSpan(start, len);
            var ds = dy.AsSpan(start, len);
            var dxs = dx.AsSpan(start, len);
            var i = 0;
            if (Vector.IsHardwareAccelerated)
            {
                var vx = MemoryMarshal.Cast<float, Vector<float>>(xs);
                var vd = MemoryMarshal.Cast<float, Vector<float>>(ds);
                var vo = MemoryMarshal.Cast<float, Vector<float>>(dxs);
                var va = new Vector<float>(alpha);
                var vb = new Vector<float>(beta);
                for (var k = 0; k < vx.Length; k++)
                {
                    var t = vx[k] * va + vb;
                    var inside = Vector.GreaterThan(t, Vector<float>.Zero) & Vector.LessThan(t, Vector<float>.One);
                    vo[k] = Vector.ConditionalSelect(inside, vd[k] * va, Vector<float>.Zero);
                }

                i = vx.Length * Vector<float>.Count;
            }

            for (; i < len; i++)
            {
                var t = xs[i] * alpha + beta;
                dxs[i] = t > 0f && t < 1f ? ds[i] * alpha : 0f;
            }
        });
    }

    /// <summary>y = x·max(0, min(1, x/6 + 0.5)) (ONNX HardSwish, PyTorch hardswish).</summary>
    public static void HardSwishForward(int count, float[] x, float[] y)
    {
        CheckForward(count, x, y);
        ElementwiseParallel.ForBlocks(count, (start, len) =>
        {
            Span<float> t = stackalloc float[Chunk];
            for (var s = start; s < start + len; s += Chunk)
            {
                var l = Math.Min(Chunk, start + len - s);
                var xs = x.AsSpan(s, l);
                var tt = t[..l];
                // The gate goes to scratch first so that y may be x.
                ElementwiseMath.Affine(xs, 1f / 6f, 0.5f, tt);
                TensorPrimitives.Max(tt, 0f, tt);
                TensorPrimitives.Min(tt, 1f, tt);
                TensorPrimitives.Multiply(xs, tt, y.AsSpan(s, l));
            }
        });
    }

    /// <summary>
    /// dx = 0 for x &lt; −3, dy·(x/3 + 0.5) for −3 ≤ x ≤ 3, dy for x &gt; 3 (PyTorch's hardswish_backward, so the
    /// derivative is −0.5 at −3 and 1.5 at 3). Reads x, not y.
    /// </summary>
    public static void HardSwishBackward(int count, float[] x, float[]? y, float[] dy, float[] dx)
    {
        CheckBackward(count, x, dy, dx);
        ElementwiseParallel.ForBlocks(count, (start, len) =>
        {
            var xs = x.AsSpan(start, len);
            var ds = dy.AsSpan(start, len);
            var dxs = dx.AsSpan(start, len);
            var i = 0;
            if (Vector.IsHardwareAccelerated)
            {
                var vx = MemoryMarshal.Cast<float, Vector<float>>(xs);
                var vd = MemoryMarshal.Cast<float, Vector<float>>(ds);
                var vo = MemoryMarshal.Cast<float, Vector<float>>(dxs);
                var three = new Vector<float>(3f);
                var minusThree = new Vector<float>(-3f);
                var third = new Vector<float>(1f / 3f);
                var half = new Vector<float>(0.5f);
                for (var k = 0; k < vx.Length; k++)
                {
                    var v = vx[k];
                    var d = vd[k];
                    var middle = Vector.ConditionalSelect(Vector.LessThanOrEqual(v, three), d * (v * third + half), d);
                    vo[k] = Vector.ConditionalSelect(Vector.LessThan(v, minusThree), Vector<float>.Zero, middle);
                }

                i = vx.Length * Vector<float>.Count;
            }

            for (; i < len; i++)
            {
                var v = xs[i];
                dxs[i] = v < -3f ? 0f : v <= 3f ? ds[i] * (v * (1f / 3f) + 0.5f) : ds[i];
            }
        });
    }

    /// <summary>y = tanh(x).</summary>
    public static void TanhForward(int count, float[] x, float[] y)
    {
        CheckForward(count, x, y);
        ElementwiseParallel.ForBlocks(count, (start, len) => TensorPrimitives.Tanh(x.AsSpan(start, len), y.AsSpan(start, len)));
    }

    /// <summary>dx = dy·(1 − y²). Reads y, not x.</summary>
    public static void TanhBackward(int count, float[]? x, float[] y, float[] dy, float[] dx)
    {
        CheckBackward(count, y, dy, dx);
        ElementwiseParallel.ForBlocks(count, (start, len) =>
        {
            Span<float> t = stackalloc float[Chunk];
            for (var s = start; s < start + len; s += Chunk)
            {
                var l = Math.Min(Chunk, start + len - s);
                var yy = y.AsSpan(s, l);
                var tt = t[..l];
                TensorPrimitives.Multiply(yy, yy, tt);
                TensorPrimitives.Subtract(1f, tt, tt);
                TensorPrimitives.Multiply(tt, dy.AsSpan(s, l), dx.AsSpan(s, l));
            }
        });
    }

    /// <summary>
    /// dst = src where x ∈ (low, high] (or [low, high] when <paramref name="lowInclusive"/>), else <paramref name="outside"/>.
    /// TensorPrimitives has no comparisons, so the masks are Vector&lt;float&gt; selects; NaN in x is outside.
    /// </summary>
    private static void Gate(ReadOnlySpan<float> x, ReadOnlySpan<float> src, Span<float> dst, float low, float high, bool lowInclusive, float outside)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var vx = MemoryMarshal.Cast<float, Vector<float>>(x);
            var vs = MemoryMarshal.Cast<float, Vector<float>>(src);
            var vo = MemoryMarshal.Cast<float, Vector<float>>(dst);
            var vLow = new Vector<float>(low);
            var vHigh = new Vector<float>(high);
            var vOut = new Vector<float>(outside);
            for (var k = 0; k < vx.Length; k++)
            {
                var v = vx[k];
                var aboveLow = lowInclusive ? Vector.GreaterThanOrEqual(v, vLow) : Vector.GreaterThan(v, vLow);
                vo[k] = Vector.ConditionalSelect(aboveLow & Vector.LessThanOrEqual(v, vHigh), vs[k], vOut);
            }

            i = vx.Length * Vector<float>.Count;
        }

        for (; i < x.Length; i++)
        {
            var v = x[i];
            var inside = (lowInclusive ? v >= low : v > low) && v <= high;
            dst[i] = inside ? src[i] : outside;
        }
    }

    /// <summary>dst = src where x &gt; 0, alpha·src elsewhere; forward (src = x) and backward (src = dy) alike.</summary>
    /// <remarks>At x = 0 the forward gives alpha·0 = 0 either way, and the backward gives alpha, as PyTorch.</remarks>
    private static void LeakyRelu(ReadOnlySpan<float> x, ReadOnlySpan<float> src, Span<float> dst, float alpha)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var vx = MemoryMarshal.Cast<float, Vector<float>>(x);
            var vs = MemoryMarshal.Cast<float, Vector<float>>(src);
            var vo = MemoryMarshal.Cast<float, Vector<float>>(dst);
            var va = new Vector<float>(alpha);
            for (var k = 0; k < vx.Length; k++)
            {
                var s = vs[k];
                vo[k] = Vector.ConditionalSelect(Vector.GreaterThan(vx[k], Vector<float>.Zero), s, s * va);
            }

            i = vx.Length * Vector<float>.Count;
        }

        for (; i < x.Length; i++)
        {
            dst[i] = x[i] > 0f ? src[i] : src[i] * alpha;
        }
    }

    private static void CheckForward(int count, float[] x, float[] y)
    {
        ElementwiseArgs.NonNegative(count);
        ElementwiseArgs.Length(x, count, "count");
        ElementwiseArgs.Length(y, count, "count");
    }

    private static void CheckBackward(int count, float[] input, float[] dy, float[] dx, [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(input))] string inputName = "")
    {
        ElementwiseArgs.NonNegative(count);
        ElementwiseArgs.Length(input, count, "count", inputName);
        ElementwiseArgs.Length(dy, count, "count");
        ElementwiseArgs.Length(dx, count, "count");
    }

    private static void CheckBounds(float min, float max)
    {
        if (!(min <= max))
        {
            throw new ArgumentException($"Clip needs min ≤ max; min = {min}, max = {max}.", nameof(min));
        }
    }
}
