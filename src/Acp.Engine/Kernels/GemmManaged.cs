using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Acp.Engine.Kernels;

/// <summary>
/// The managed GEMM. The work is cut into MR×NR tiles of C, each computed by a register-blocked micro-kernel
/// (<see cref="IGemmKernel"/>) that keeps the whole tile in vector registers while it runs down a block of k.
/// </summary>
/// <remarks>
/// The engine's products are small (a convolution over one image: m, n, k in the tens to the low thousands), so A and
/// B are read where they lie whenever their layout allows: copying them into packed panels first, as BLIS-style
/// libraries do, would cost as much as the multiply itself at these sizes. The micro-kernels take A through a row
/// stride and a column stride, which covers A and Aᵀ alike, and B through a row stride. Only Bᵀ, whose rows are
/// the wrong way for vector loads, is packed: a k-block of it at a time, into NR-wide panels. k is blocked (at most
/// <see cref="KcMax"/>) so that the B panel a kernel streams stays in L1 while the kernel sweeps down the rows of A.
/// </remarks>
internal static unsafe class GemmManaged
{
    /// <summary>Vector width of the micro-kernel.</summary>
    internal enum Width
    {
        /// <summary>The widest the CPU runs well.</summary>
        Auto,

        /// <summary>AVX-512: 8×32 tiles.</summary>
        Vector512,

        /// <summary>AVX2 + FMA: 6×16 tiles.</summary>
        Vector256,

        /// <summary>Vector128 (SSE or AdvSimd): 6×8 tiles.</summary>
        Vector128,

        /// <summary>No SIMD: 4×4 tiles of scalars.</summary>
        Scalar,
    }

    /// <summary>Largest k-block: its 32-wide B panel (32 KiB) stays in a 48 KiB L1 while the kernel sweeps over A.</summary>
    internal const int KcMax = 256;

    /// <summary>Largest n-block of packed Bᵀ: KcMax × NcMax floats (1 MiB) stay in L2.</summary>
    internal const int NcMax = 1024;

    [ThreadStatic]
    private static float[]? workspace;

    /// <summary>The width <see cref="Width.Auto"/> stands for on this CPU.</summary>
    internal static Width BestWidth { get; } = Best();

    /// <summary>Whether this CPU can run kernels of the given width.</summary>
    internal static bool IsSupported(Width width) => width switch
    {
        Width.Auto or Width.Scalar => true,
        Width.Vector512 => Avx512F.IsSupported,
        Width.Vector256 => Avx2.IsSupported && Fma.IsSupported,
        Width.Vector128 => Vector128.IsHardwareAccelerated,
        _ => false,
    };

    /// <summary>
    /// C = alpha · op(A) · op(B) + beta · C for m, n, k &gt; 0 and alpha ≠ 0 (<see cref="Gemm"/> validated the sizes and
    /// handled the rest).
    /// </summary>
    /// <exception cref="PlatformNotSupportedException">A width this CPU does not have was forced.</exception>
    internal static void Multiply(Width width, bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, nint lda, float* b, nint ldb, float beta, float* c, nint ldc)
    {
        if (width == Width.Auto)
        {
            width = BestWidth;
        }
        else if (!IsSupported(width))
        {
            throw new PlatformNotSupportedException($"This CPU cannot run the {width} GEMM kernels.");
        }

        switch (width)
        {
            case Width.Vector512:
                Drive<GemmKernel512>(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
                break;
            case Width.Vector256:
                Drive<GemmKernel256>(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
                break;
            case Width.Vector128:
                Drive<GemmKernel128>(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
                break;
            default:
                Drive<GemmKernelScalar>(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
                break;
        }
    }

    private static Width Best()
    {
        // Avx512F rather than Vector512.IsHardwareAccelerated: the runtime reports 512-bit vectors as slow on CPUs
        // that lower their clock for them, which hurts short bursts of vector code but not a GEMM that runs at full
        // FMA throughput.
        if (IsSupported(Width.Vector512))
        {
            return Width.Vector512;
        }

        if (IsSupported(Width.Vector256))
        {
            return Width.Vector256;
        }

        return IsSupported(Width.Vector128) ? Width.Vector128 : Width.Scalar;
    }

    /// <summary>
    /// The managed product with the packing decided by the caller instead of <see cref="ShouldPack"/>; for measuring
    /// the crossover. Bᵀ is always packed (or swapped away): its rows are the wrong way for vector loads.
    /// </summary>
    internal static void MultiplyPacked(bool packA, bool packB, bool transA, bool transB, int m, int n, int k,
        float alpha, float* a, nint lda, float* b, nint ldb, float beta, float* c, nint ldc)
    {
        General<GemmKernel512>(transA, transB, packA, packB || transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Drive<TKernel>(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, nint lda, float* b, nint ldb, float beta, float* c, nint ldc)
        where TKernel : struct, IGemmKernel
    {
        if (ShouldSwap(transA, transB, m, n, k))
        {
            var ct = Scratch(ref transposedC, m * n);
            var swappedTransB = !transA;
            var (swappedPackA, swappedPackB) = ShouldPack(false, swappedTransB, n, m, k);
            General<TKernel>(false, swappedTransB, swappedPackA, swappedPackB, n, m, k, alpha, b, ldb, a, lda, 0f, ct, m);
            GemmPacking.MergeTransposed(m, n, ct, beta, c, ldc);
            return;
        }

        var (packA, packB) = ShouldPack(transA, transB, m, n, k);
        General<TKernel>(transA, transB, packA, packB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }

    /// <summary>
    /// Whether to compute Cᵀ = op(B)ᵀ·op(A)ᵀ instead of C = op(A)·op(B). With Bᵀ stored, op(B)ᵀ is B as stored, which
    /// the kernels read in place, so the operand that must be transposed into panels becomes A (nothing at all for
    /// Aᵀ·Bᵀ); the price is a transposed copy of C. Worth it when A and C together are smaller than B, as in
    /// backward-filter convolutions (m = output channels, k = pixels).
    /// </summary>
    internal static bool ShouldSwap(bool transA, bool transB, int m, int n, int k)
    {
        if (!transB || (long)m * n > SwapScratchLimit)
        {
            return false;
        }

        var swappedCost = (transA ? 0 : (long)m * k) + (long)m * n;
        return swappedCost < (long)n * k;
    }

    /// <summary>
    /// Whether to copy A and B into panels first. The kernels can read both in place, which is what the engine's
    /// small per-image products want; packing pays for itself only when a panel is reused often enough to cover the
    /// copy, and when the matrices outgrow L2, where strided reads of unpacked rows miss the caches and TLB.
    /// </summary>
    internal static (bool PackA, bool PackB) ShouldPack(bool transA, bool transB, int m, int n, int k)
    {
        var large = (long)m * k + (long)k * n > LargeOperandFloats;
        var packA = large && n >= PackAMinColumns;
        var packB = transB || (large && m >= PackBMinRows);
        return (packA, packB);
    }

    /// <summary>Below this many floats in A and B together (1 MiB), the operands stay in L2 unpacked.</summary>
    internal const long LargeOperandFloats = 256 * 1024;

    /// <summary>A packed A block is reused once per NR columns of C; below this many columns the copy does not pay.</summary>
    internal const int PackAMinColumns = 128;

    /// <summary>A packed B panel is reused once per MR rows of C; below this many rows the copy does not pay.</summary>
    internal const int PackBMinRows = 64;

    /// <summary>Largest Cᵀ (floats) held in scratch when swapping the operands of A·Bᵀ: 1 MiB.</summary>
    internal const long SwapScratchLimit = 256 * 1024;

    /// <summary>Largest m-block of packed A: McMax × KcMax floats (144 KiB) stay in L2 next to the B block.</summary>
    internal const int McMax = 144;

    [ThreadStatic]
    private static float[]? transposedC;

    internal static bool ExperimentRowOrder;
    internal static int ExperimentNc = NcMax;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void General<TKernel>(bool transA, bool transB, bool packA, bool packB, int m, int n, int k,
        float alpha, float* a, nint lda, float* b, nint ldb, float beta, float* c, nint ldc)
        where TKernel : struct, IGemmKernel
    {
        var mr = TKernel.Mr;
        var nr = TKernel.Nr;

        // Equal blocks rather than full ones plus a short remainder: a short k-block would pay the per-tile C
        // traffic for little work.
        var kcStep = Balanced(k, KcMax);
        var ncStep = packB || ExperimentRowOrder ? RoundUp(Balanced(n, ExperimentNc), nr) : n;
        var mcStep = packA ? RoundUp(Balanced(m, McMax), mr) : m;

        // Element (i, p) of op(A) is a[i * ars + p * acs].
        var ars = transA ? 1 : lda;
        var acs = transA ? lda : 1;

        float* ap = null, bp = null;
        if (packA || packB)
        {
            // The A part is rounded up to whole cache lines so that the B panels start aligned too.
            var aFloats = packA ? RoundUp(mcStep * kcStep, 16) : 0;
            ap = Scratch(ref workspace, aFloats + (packB ? ncStep * kcStep : 0));
            bp = ap + aFloats;
        }

        for (var jc = 0; jc < n; jc += ncStep)
        {
            var nc = Math.Min(ncStep, n - jc);
            for (var pc = 0; pc < k; pc += kcStep)
            {
                var kc = Math.Min(kcStep, k - pc);
                var betaK = pc == 0 ? beta : 1f;
                if (packB)
                {
                    GemmPacking.PackB(transB ? b + jc * ldb + pc : b + pc * ldb + jc, ldb, transB, kc, nc, nr, bp);
                }

                for (var ic = 0; ic < m; ic += mcStep)
                {
                    var mc = Math.Min(mcStep, m - ic);
                    if (packA)
                    {
                        GemmPacking.PackA(a + ic * ars + pc * acs, ars, acs, mc, kc, mr, ap);
                    }

                    if (ExperimentRowOrder)
                    {
                        for (var ir = 0; ir < mc; ir += mr)
                        {
                            for (var jr = 0; jr < nc; jr += nr)
                            {
                                var nrHere = Math.Min(nr, nc - jr);
                                var bt = packB ? bp + (nint)jr * kc : b + pc * ldb + jc + jr;
                                var bs = packB ? nr : ldb;
                                var ct = c + ic * ldc + jc + jr;
                                if (packA)
                                {
                                    TKernel.Tile(kc, ap + (nint)ir * kc, 1, mr, bt, bs, ct + ir * ldc, ldc,
                                        Math.Min(mr, mc - ir), nrHere, alpha, betaK);
                                }
                                else
                                {
                                    TKernel.Tile(kc, a + (ic + ir) * ars + pc * acs, ars, acs, bt, bs, ct + ir * ldc, ldc,
                                        Math.Min(mr, mc - ir), nrHere, alpha, betaK);
                                }
                            }
                        }

                        continue;
                    }

                    for (var jr = 0; jr < nc; jr += nr)
                    {
                        var nrHere = Math.Min(nr, nc - jr);
                        var bt = packB ? bp + (nint)jr * kc : b + pc * ldb + jc + jr;
                        var bs = packB ? nr : ldb;
                        var ct = c + ic * ldc + jc + jr;
                        for (var ir = 0; ir < mc; ir += mr)
                        {
                            if (packA)
                            {
                                TKernel.Tile(kc, ap + (nint)ir * kc, 1, mr, bt, bs, ct + ir * ldc, ldc,
                                    Math.Min(mr, mc - ir), nrHere, alpha, betaK);
                            }
                            else
                            {
                                TKernel.Tile(kc, a + (ic + ir) * ars + pc * acs, ars, acs, bt, bs, ct + ir * ldc, ldc,
                                    Math.Min(mr, mc - ir), nrHere, alpha, betaK);
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>Splits <paramref name="total"/> into equal blocks of at most <paramref name="max"/>; returns the block size.</summary>
    private static int Balanced(int total, int max)
    {
        var blocks = (total + max - 1) / max;
        return (total + blocks - 1) / blocks;
    }

    private static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;

    /// <summary>
    /// A thread's scratch buffer of at least <paramref name="floats"/> floats, 64-byte aligned. Per thread because the
    /// engine calls GEMM from inside Parallel.For; pinned so that a raw pointer into it stays valid.
    /// </summary>
    private static float* Scratch(ref float[]? buffer, int floats)
    {
        const int AlignFloats = 16;
        if (buffer is null || buffer.Length < floats + AlignFloats)
        {
            buffer = GC.AllocateUninitializedArray<float>(floats + AlignFloats, pinned: true);
        }

        var start = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer));
        var misalignment = (nint)start & 63;
        return misalignment == 0 ? start : (float*)((byte*)start + (64 - misalignment));
    }
}
