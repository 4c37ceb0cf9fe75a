namespace Acp.Engine.Kernels;

/// <summary>Which implementation <see cref="Gemm.Multiply"/> uses.</summary>
public enum GemmProvider
{
    /// <summary>The managed SIMD implementation on CPUs with 256-bit vectors or wider (faster there on convolution-sized
    /// products); OpenBLAS on narrower CPUs when <c>libopenblas.so.0</c> loads.</summary>
    Auto,

    /// <summary>OpenBLAS <c>cblas_sgemm</c>, forced to one thread per call.</summary>
    OpenBlas,

    /// <summary>The managed SIMD implementation (AVX-512, AVX2 + FMA, 128-bit or scalar, by what the CPU has).</summary>
    Managed,
}
