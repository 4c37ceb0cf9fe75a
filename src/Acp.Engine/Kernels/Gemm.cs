using System.Numerics.Tensors;

namespace Acp.Engine.Kernels;

/// <summary>
/// Single-precision matrix multiply on row-major matrices: C = alpha · op(A) · op(B) + beta · C, where op(X) is X or
/// its transpose. op(A) is m×k, op(B) is k×n, C is m×n; lda, ldb, ldc are the row strides of A, B and C as stored.
/// </summary>
/// <remarks>
/// Two providers compute the product (<see cref="Provider"/>): OpenBLAS, forced to one thread, and a managed SIMD
/// implementation. Both are single-threaded and safe to call concurrently from many threads.
/// </remarks>
public static class Gemm
{
    private static volatile GemmProvider requested = GemmProvider.Auto;

    /// <summary>
    /// The provider asked for; <see cref="GemmProvider.Auto"/> (the default) means OpenBLAS when it loads and the
    /// managed implementation otherwise. Process-wide; products already running finish on the provider they started on.
    /// </summary>
    /// <exception cref="InvalidOperationException">Set to <see cref="GemmProvider.OpenBlas"/> when OpenBLAS cannot be
    /// loaded.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Set to a value that is not a <see cref="GemmProvider"/>.</exception>
    public static GemmProvider Provider
    {
        get => requested;
        set
        {
            // Fail at the switch, not at the next product deep inside a kernel.
            Resolve(value, value == GemmProvider.OpenBlas && OpenBlasNative.IsAvailable, OpenBlasNative.UnavailableReason);
            requested = value;
        }
    }

    /// <summary>The provider that products actually run on: <see cref="GemmProvider.OpenBlas"/> or
    /// <see cref="GemmProvider.Managed"/>, never <see cref="GemmProvider.Auto"/>.</summary>
    public static GemmProvider ActiveProvider => Resolve(requested, OpenBlasNative.IsAvailable, OpenBlasNative.UnavailableReason);

    /// <summary>
    /// Computes C = alpha · op(A) · op(B) + beta · C. With beta = 0, C's previous contents are ignored (NaN included);
    /// with alpha = 0 or k = 0, A and B are not read and C becomes beta · C. Only the m×n window of C at stride
    /// <paramref name="ldc"/> is written. Single-threaded: callers parallelise over independent products (images,
    /// groups).
    /// </summary>
    /// <param name="transA">Whether A is stored transposed (k×m) rather than as m×k.</param>
    /// <param name="transB">Whether B is stored transposed (n×k) rather than as k×n.</param>
    /// <param name="m">Rows of op(A) and C.</param>
    /// <param name="n">Columns of op(B) and C.</param>
    /// <param name="k">Columns of op(A), rows of op(B).</param>
    /// <param name="alpha">Scale of the product.</param>
    /// <param name="a">A, row-major as stored.</param>
    /// <param name="lda">Row stride of A as stored: at least k, or m when <paramref name="transA"/>.</param>
    /// <param name="b">B, row-major as stored.</param>
    /// <param name="ldb">Row stride of B as stored: at least n, or k when <paramref name="transB"/>.</param>
    /// <param name="beta">Scale of C's previous contents; 0 ignores them.</param>
    /// <param name="c">C, row-major.</param>
    /// <param name="ldc">Row stride of C: at least n.</param>
    /// <exception cref="ArgumentException">A size is negative, a stride is smaller than its row, or a span is shorter
    /// than its matrix.</exception>
    public static void Multiply(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        MultiplyWith(ActiveProvider, GemmManaged.Width.Auto, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }

    /// <summary>
    /// <see cref="Multiply(bool, bool, int, int, int, float, ReadOnlySpan{float}, int, ReadOnlySpan{float}, int, float, Span{float}, int)"/>
    /// on a given provider and, for the managed one, a given vector width; lets tests cover every path without
    /// touching the process-wide setting that other tests' kernels run on.
    /// </summary>
    internal static unsafe void MultiplyWith(GemmProvider provider, GemmManaged.Width width, bool transA, bool transB,
        int m, int n, int k, float alpha, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb,
        float beta, Span<float> c, int ldc)
    {
        Validate(transA, transB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        if (m == 0 || n == 0)
        {
            return;
        }

        if (k == 0 || alpha == 0)
        {
            Scale(m, n, beta, c, ldc);
            return;
        }

        provider = Resolve(provider, OpenBlasNative.IsAvailable, OpenBlasNative.UnavailableReason);
        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
        {
            if (provider == GemmProvider.OpenBlas)
            {
                OpenBlasNative.Sgemm(transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
            }
            else
            {
                GemmManaged.Multiply(width, transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
            }
        }
    }

    /// <summary>Maps a requested provider to the one that runs, given whether OpenBLAS loads.</summary>
    /// <exception cref="InvalidOperationException">OpenBLAS requested but not loadable.</exception>
    internal static GemmProvider Resolve(GemmProvider requested, bool openBlasAvailable, string? unavailableReason) =>
        Resolve(requested, openBlasAvailable, unavailableReason, HasWideSimd);

    /// <summary>256-bit or wider vectors: where the managed kernels are the faster choice.</summary>
    internal static bool HasWideSimd => System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated;

    internal static GemmProvider Resolve(GemmProvider requested, bool openBlasAvailable, string? unavailableReason, bool wideSimd)
    {
        return requested switch
        {
            // The managed kernels beat single-threaded OpenBLAS 1.2-2.2x on the small products convolutions make, where
            // SIMD is wide enough (docs/benchmarks.md); without AVX2 OpenBLAS's hand-written assembly wins.
            GemmProvider.Auto => openBlasAvailable && !wideSimd ? GemmProvider.OpenBlas : GemmProvider.Managed,
            GemmProvider.Managed => GemmProvider.Managed,
            GemmProvider.OpenBlas when openBlasAvailable => GemmProvider.OpenBlas,
            GemmProvider.OpenBlas => throw new InvalidOperationException(
                $"GEMM provider OpenBlas was requested but OpenBLAS cannot be loaded ({unavailableReason ?? "unknown reason"}). " +
                $"Install libopenblas0 (for example the Debian package libopenblas0-pthread) or use {nameof(GemmProvider)}.{nameof(GemmProvider.Managed)} or {nameof(GemmProvider.Auto)}."),
            _ => throw new ArgumentOutOfRangeException(nameof(requested), requested, "Not a GemmProvider value."),
        };
    }

    /// <summary>Checks sizes, strides and span lengths; the messages carry the numbers.</summary>
    internal static void Validate(bool transA, bool transB, int m, int n, int k, int aLength, int lda,
        int bLength, int ldb, int cLength, int ldc)
    {
        if (m < 0 || n < 0 || k < 0)
        {
            throw new ArgumentException($"GEMM sizes must not be negative: m = {m}, n = {n}, k = {k}.");
        }

        CheckMatrix("A", "a", "lda", transA ? k : m, transA ? m : k, lda, aLength, transA);
        CheckMatrix("B", "b", "ldb", transB ? n : k, transB ? k : n, ldb, bLength, transB);
        CheckMatrix("C", "c", "ldc", m, n, ldc, cLength, transposed: null);
    }

    private static void CheckMatrix(string matrix, string span, string strideName, int rows, int cols, int stride,
        int length, bool? transposed)
    {
        var how = transposed switch
        {
            true => " (stored transposed)",
            false => " (stored as is)",
            null => string.Empty,
        };
        if (stride < cols)
        {
            throw new ArgumentException(
                $"{strideName} = {stride} is smaller than the {cols} columns of {matrix} as stored ({rows}×{cols}{how}).", strideName);
        }

        // The last row only needs its own columns, so a tight buffer need not be padded to a whole stride.
        var needed = rows == 0 || cols == 0 ? 0L : (long)(rows - 1) * stride + cols;
        if (length < needed)
        {
            throw new ArgumentException(
                $"{span} holds {length} elements but {matrix} ({rows}×{cols}{how}, {strideName} = {stride}) needs {needed}.", span);
        }
    }

    /// <summary>C = beta · C on the m×n window; beta = 0 writes zeros whatever C held.</summary>
    private static void Scale(int m, int n, float beta, Span<float> c, int ldc)
    {
        if (beta == 1)
        {
            return;
        }

        for (var i = 0; i < m; i++)
        {
            var row = c.Slice(i * ldc, n);
            if (beta == 0)
            {
                row.Clear();
            }
            else
            {
                TensorPrimitives.Multiply(row, beta, row);
            }
        }
    }
}
