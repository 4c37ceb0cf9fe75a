using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Acp.Engine.Kernels;

/// <summary>
/// Small SIMD loops shared by the convolution and pooling kernels. The reductions here fix the association order
/// by element index alone (lane = index mod vector width, lanes folded in a fixed order), so a sum gives the same
/// bits whatever the buffer's address: TensorPrimitives may align its loads to the address, and the garbage
/// collector may move an array between two calls, which would break the engine's determinism guarantee.
/// The elementwise loops are here rather than in TensorPrimitives because the convolution rows they run on are
/// short (tens of elements), where a call through the generic operator machinery costs as much as the work.
/// </summary>
internal static unsafe class ConvSimd
{
    /// <summary>Σ p[i] for i &lt; n, in an order that depends only on n and the machine's vector width.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Sum(float* p, int n)
    {
        var i = 0;
        var total = 0f;
        if (Vector512.IsHardwareAccelerated && n >= 2 * Vector512<float>.Count)
        {
            var a0 = Vector512<float>.Zero;
            var a1 = Vector512<float>.Zero;
            for (; i <= n - 2 * Vector512<float>.Count; i += 2 * Vector512<float>.Count)
            {
                a0 += Vector512.Load(p + i);
                a1 += Vector512.Load(p + i + Vector512<float>.Count);
            }
            total = Vector512.Sum(a0 + a1);
        }
        else if (Vector256.IsHardwareAccelerated && n >= 2 * Vector256<float>.Count)
        {
            var a0 = Vector256<float>.Zero;
            var a1 = Vector256<float>.Zero;
            for (; i <= n - 2 * Vector256<float>.Count; i += 2 * Vector256<float>.Count)
            {
                a0 += Vector256.Load(p + i);
                a1 += Vector256.Load(p + i + Vector256<float>.Count);
            }
            total = Vector256.Sum(a0 + a1);
        }
        for (; i < n; i++) total += p[i];
        return total;
    }

    /// <summary>Σ a[i]·b[i] for i &lt; n, in an order that depends only on n and the machine's vector width.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Dot(float* a, float* b, int n)
    {
        var i = 0;
        var total = 0f;
        if (Vector512.IsHardwareAccelerated && n >= Vector512<float>.Count)
        {
            var acc = Vector512<float>.Zero;
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                acc = Vector512.MultiplyAddEstimate(Vector512.Load(a + i), Vector512.Load(b + i), acc);
            }
            total = Vector512.Sum(acc);
        }
        else if (Vector256.IsHardwareAccelerated && n >= Vector256<float>.Count)
        {
            var acc = Vector256<float>.Zero;
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                acc = Vector256.MultiplyAddEstimate(Vector256.Load(a + i), Vector256.Load(b + i), acc);
            }
            total = Vector256.Sum(acc);
        }
        for (; i < n; i++) total += a[i] * b[i];
        return total;
    }

    /// <summary>y[i] += alpha·x[i] for i &lt; n.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Axpy(float alpha, float* x, float* y, int n)
    {
        var i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var va = Vector512.Create(alpha);
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                Vector512.MultiplyAddEstimate(Vector512.Load(x + i), va, Vector512.Load(y + i)).Store(y + i);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var va = Vector256.Create(alpha);
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                Vector256.MultiplyAddEstimate(Vector256.Load(x + i), va, Vector256.Load(y + i)).Store(y + i);
            }
        }
        for (; i < n; i++) y[i] = MathF.FusedMultiplyAdd(x[i], alpha, y[i]);
    }

    /// <summary>y[i] += x[i] for i &lt; n.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Add(float* x, float* y, int n)
    {
        var i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                (Vector512.Load(x + i) + Vector512.Load(y + i)).Store(y + i);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                (Vector256.Load(x + i) + Vector256.Load(y + i)).Store(y + i);
            }
        }
        for (; i < n; i++) y[i] += x[i];
    }

    /// <summary>Copies n floats; a plain loop beats Buffer.MemoryCopy's call overhead on the short rows of im2col.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Copy(float* src, float* dst, int n)
    {
        var i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count) Vector512.Load(src + i).Store(dst + i);
        }
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count) Vector256.Load(src + i).Store(dst + i);
        }
        for (; i < n; i++) dst[i] = src[i];
    }

    /// <summary>dst[i] = src[i] + value for i &lt; n.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void CopyAdd(float* src, float value, float* dst, int n)
    {
        var i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var v = Vector512.Create(value);
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count) (Vector512.Load(src + i) + v).Store(dst + i);
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var v = Vector256.Create(value);
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count) (Vector256.Load(src + i) + v).Store(dst + i);
        }
        for (; i < n; i++) dst[i] = src[i] + value;
    }

    /// <summary>Sets n floats to zero.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Zero(float* dst, int n)
    {
        if (n > 32)
        {
            new Span<float>(dst, n).Clear();
            return;
        }
        for (var i = 0; i < n; i++) dst[i] = 0f;
    }

    /// <summary>The number of worker threads a kernel may keep busy.</summary>
    public static int Workers => Environment.ProcessorCount;

    /// <summary>
    /// Runs body(i, scratch) for i in [0, count) on the thread pool, giving each worker one scratch array of at least
    /// scratchLength floats rented from the shared pool for its whole run (so the per-call garbage is a few closures,
    /// never proportional to the tensors). Runs inline when there is one item or when the whole job is too small to
    /// repay waking other threads.
    /// </summary>
    public static void For(int count, int scratchLength, long workPerItem, Action<int, float[]> body)
    {
        if (count <= 0) return;
        if (count == 1 || Workers == 1 || workPerItem * count < SerialWorkThreshold)
        {
            var scratch = Rent(scratchLength);
            try
            {
                for (var i = 0; i < count; i++) body(i, scratch);
            }
            finally
            {
                Return(scratch);
            }
            return;
        }

        try
        {
            Parallel.For(0, count, () => Rent(scratchLength), (i, _, scratch) =>
            {
                body(i, scratch);
                return scratch;
            }, Return);
        }
        catch (AggregateException e) when (e.InnerExceptions.Count == 1)
        {
            // Callers see the same exception type whether the job ran inline or on the pool.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerExceptions[0]);
        }
    }

    /// <summary>Below this many multiply-adds (or element visits) a job runs on the calling thread.</summary>
    private const long SerialWorkThreshold = 1 << 15;

    private static float[] Rent(int length) => length > 0 ? ArrayPool<float>.Shared.Rent(length) : [];

    private static void Return(float[] scratch)
    {
        if (scratch.Length > 0) ArrayPool<float>.Shared.Return(scratch);
    }
}
