using Acp.Engine.Kernels;

namespace Acp.Engine.Tests.Gemm;

/// <summary>
/// One GEMM problem laid out in buffers with room around it: A and B with NaN in their row padding (a kernel that
/// reads padding poisons its result), C inside a guard band of sentinels that must survive the call. Checks the result
/// against a double-precision product with a bound that grows with k.
/// </summary>
internal sealed class GemmCase
{
    /// <summary>Written everywhere in C's buffer outside the m×n window; must be there afterwards.</summary>
    internal const float Sentinel = -7777.25f;

    internal GemmCase(int seed, bool transA, bool transB, int m, int n, int k, float alpha, float beta,
        int padA = 0, int padB = 0, int padC = 0, int offsetB = 0, int guard = 19)
    {
        Guard = guard;
        BOffset = offsetB;
        var random = new Random(seed);
        TransA = transA;
        TransB = transB;
        M = m;
        N = n;
        K = k;
        Alpha = alpha;
        Beta = beta;
        Lda = (transA ? m : k) + padA;
        Ldb = (transB ? k : n) + padB;
        Ldc = n + padC;
        A = Matrix(random, transA ? k : m, transA ? m : k, Lda);
        B = Matrix(random, transB ? n : k, transB ? k : n, Ldb, offsetB);

        CBuffer = new float[Guard + Math.Max(0, (m - 1) * Ldc + n) + Guard];
        Array.Fill(CBuffer, Sentinel);
        for (var i = 0; i < m; i++)
        {
            for (var j = 0; j < n; j++)
            {
                // beta = 0 must ignore C entirely, so give it something that would show.
                CBuffer[Guard + i * Ldc + j] = beta == 0 ? float.NaN : (float)(random.NextDouble() * 2 - 1);
            }
        }

        COriginal = (float[])CBuffer.Clone();
    }

    /// <summary>Sentinels before C, and so C's offset in its buffer: varying it varies C's alignment.</summary>
    internal int Guard { get; }

    /// <summary>NaNs before B in its array: varying it varies B's alignment.</summary>
    internal int BOffset { get; }

    internal bool TransA { get; }

    internal bool TransB { get; }

    internal int M { get; }

    internal int N { get; }

    internal int K { get; }

    internal float Alpha { get; }

    internal float Beta { get; }

    internal int Lda { get; }

    internal int Ldb { get; }

    internal int Ldc { get; }

    internal float[] A { get; }

    internal float[] B { get; }

    internal float[] CBuffer { get; }

    internal float[] COriginal { get; }

    /// <summary>C as the callee sees it: starts after the front guard band.</summary>
    internal Span<float> C => CBuffer.AsSpan(Guard, CBuffer.Length - Guard);

    internal void Run(GemmProvider provider, GemmManaged.Width width = GemmManaged.Width.Auto) =>
        Acp.Engine.Kernels.Gemm.MultiplyWith(provider, width, TransA, TransB, M, N, K, Alpha, A, Lda, B.AsSpan(BOffset), Ldb, Beta, C, Ldc);

    internal void RunPublic() =>
        Acp.Engine.Kernels.Gemm.Multiply(TransA, TransB, M, N, K, Alpha, A, Lda, B.AsSpan(BOffset), Ldb, Beta, C, Ldc);

    /// <summary>Asserts the m×n window against the reference and every other element of C's buffer unchanged.</summary>
    internal void Verify(string label)
    {
        // Error bound of a k-term dot product in float, whatever the summation order: about k·u·Σ|terms|, plus the
        // roundings of the alpha and beta steps. The factor 2 leaves room for the bound's second-order terms.
        const double unitRoundoff = 1.0 / (1 << 24);
        for (var idx = 0; idx < CBuffer.Length; idx++)
        {
            var inside = M > 0 && N > 0 && idx >= Guard && (idx - Guard) % Ldc < N && (idx - Guard) / Ldc < M;
            if (!inside && !CBuffer[idx].Equals(COriginal[idx]))
            {
                Assert.Fail($"{label}: element {idx - Guard} of C outside the {M}×{N} window (ldc {Ldc}) changed from {COriginal[idx]} to {CBuffer[idx]}.");
            }
        }

        // Locals rather than properties: the test project builds in Debug, where property reads in this O(m·n·k)
        // loop would dominate the run time.
        int m = M, n = N, k = K, lda = Lda, ldb = Ldb, ldc = Ldc, guard = Guard, bo = BOffset;
        bool transA = TransA, transB = TransB;
        double alpha = Alpha, beta = Beta;
        float[] a = A, b = B, c = CBuffer, original = COriginal;
        for (var i = 0; i < m; i++)
        {
            for (var j = 0; j < n; j++)
            {
                double sum = 0, magnitude = 0;
                for (var p = 0; p < k; p++)
                {
                    double product = (double)(transA ? a[p * lda + i] : a[i * lda + p]) * (transB ? b[bo + j * ldb + p] : b[bo + p * ldb + j]);
                    sum += product;
                    magnitude += Math.Abs(product);
                }

                double old = original[guard + i * ldc + j];
                var expected = alpha * sum + (beta == 0 ? 0 : beta * old);
                var scale = Math.Abs(alpha) * magnitude + (beta == 0 ? 0 : Math.Abs(beta * old));
                var tolerance = 2 * (k + 3) * unitRoundoff * scale + 1e-30;
                var got = c[guard + i * ldc + j];
                if (!(Math.Abs(got - expected) <= tolerance))
                {
                    Assert.Fail($"{label}: C[{i},{j}] = {got}, expected {expected} ± {tolerance:G3} " +
                        $"(transA {transA}, transB {transB}, m {m}, n {n}, k {k}, lda {lda}, ldb {ldb}, ldc {ldc}, alpha {alpha}, beta {beta}).");
                }
            }
        }
    }

    private static float[] Matrix(Random random, int rows, int cols, int stride, int offset = 0)
    {
        var data = new float[offset + (rows == 0 ? 0 : (rows - 1) * stride + cols)];
        Array.Fill(data, float.NaN);
        for (var r = 0; r < rows; r++)
        {
            for (var c = 0; c < cols; c++)
            {
                data[offset + r * stride + c] = (float)(random.NextDouble() * 2 - 1);
            }
        }

        return data;
    }
}
