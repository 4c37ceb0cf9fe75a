namespace Acp.Engine.Kernels;

/// <summary>Which implementation <see cref="Gemm.Multiply"/> uses.</summary>
public enum GemmProvider
{
    /// <summary>OpenBLAS when <c>libopenblas.so.0</c> loads, the managed SIMD implementation otherwise.</summary>
    Auto,

    /// <summary>OpenBLAS <c>cblas_sgemm</c>, forced to one thread per call.</summary>
    OpenBlas,

    /// <summary>The managed SIMD implementation (AVX-512, AVX2 + FMA, 128-bit or scalar, by what the CPU has).</summary>
    Managed,
}
