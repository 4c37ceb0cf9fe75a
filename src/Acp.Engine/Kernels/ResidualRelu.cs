using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Acp.Engine.Kernels;

/// <summary>
/// Add → Relu of a residual join in one pass each way (training): y = max(0, a + b), and in backward both operand
/// gradients g = dy·[y &gt; 0] written straight from the Relu's gradient. The same bits as <see cref="Broadcast"/>'s
/// same-shape Add followed by <see cref="Activations.ReluForward"/> / <see cref="Activations.ReluBackward"/>
/// (y &gt; 0 exactly where a + b &gt; 0), without writing the sum or its gradient.
/// </summary>
internal static unsafe class ResidualRelu
{
    /// <summary>y[i] = max(0, a[i] + b[i]) for i &lt; count; y may be a or b.</summary>
    public static void Forward(int count, float[] a, float[] b, float[] y)
    {
        Check(count, a, nameof(a));
        Check(count, b, nameof(b));
        Check(count, y, nameof(y));
        var width = BatchNorm.ChooseWidth();
        ElementwiseParallel.ForBlocks(count, (start, length) =>
        {
            fixed (float* pa = a, pb = b, py = y) ForwardBlock(pa + start, pb + start, py + start, length, width);
        });
    }

    /// <summary>
    /// da[i] = db[i] = dy[i] where y[i] &gt; 0, else 0 (y is the forward output); either of da, db may be null. da and db
    /// may be dy (each element is read before it is written) but must not be y.
    /// </summary>
    public static void Backward(int count, float[] y, float[] dy, float[]? da, float[]? db)
    {
        Check(count, y, nameof(y));
        Check(count, dy, nameof(dy));
        if (da is not null) Check(count, da, nameof(da));
        if (db is not null) Check(count, db, nameof(db));
        if (ReferenceEquals(da, y) || ReferenceEquals(db, y)) throw new ArgumentException("The operand gradients must not be the forward output they are gated by.");
        if (da is null && db is null) return;
        var width = BatchNorm.ChooseWidth();
        var first = da ?? db!;
        var second = da is null ? null : db;
        ElementwiseParallel.ForBlocks(count, (start, length) =>
        {
            fixed (float* py = y, pdy = dy, pf = first)
            {
                BackwardBlock(py + start, pdy + start, pf + start, length, width);
            }
            // The second copy of a block still in cache: a plain copy (which the runtime does without reading the
            // destination first) measured faster than storing both from the gating loop.
            if (second is not null) first.AsSpan(start, length).CopyTo(second.AsSpan(start, length));
        });
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForwardBlock(float* a, float* b, float* y, int count, BatchNorm.Width width)
    {
        var i = 0;
        if (width == BatchNorm.Width.Vector512)
        {
            for (; i <= count - 16; i += 16) Vector512.Max(Vector512.Load(a + i) + Vector512.Load(b + i), Vector512<float>.Zero).Store(y + i);
        }
        else if (width == BatchNorm.Width.Vector256)
        {
            for (; i <= count - 8; i += 8) Vector256.Max(Vector256.Load(a + i) + Vector256.Load(b + i), Vector256<float>.Zero).Store(y + i);
        }
        for (; i < count; i++) y[i] = Math.Max(a[i] + b[i], 0f);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BackwardBlock(float* y, float* dy, float* g, int count, BatchNorm.Width width)
    {
        var i = 0;
        if (width == BatchNorm.Width.Vector512)
        {
            for (; i <= count - 16; i += 16) (Vector512.Load(dy + i) & Vector512.GreaterThan(Vector512.Load(y + i), Vector512<float>.Zero)).Store(g + i);
        }
        else if (width == BatchNorm.Width.Vector256)
        {
            for (; i <= count - 8; i += 8) (Vector256.Load(dy + i) & Vector256.GreaterThan(Vector256.Load(y + i), Vector256<float>.Zero)).Store(g + i);
        }
        for (; i < count; i++) g[i] = y[i] > 0f ? dy[i] : 0f;
    }

    private static void Check(int count, float[] buffer, string name)
    {
        ArgumentNullException.ThrowIfNull(buffer, name);
        if (count < 0 || buffer.Length < count) throw new ArgumentException($"{name} has {buffer.Length} elements; {count} are needed.", name);
    }
}
