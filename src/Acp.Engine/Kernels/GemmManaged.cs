using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Acp.Engine.Kernels;

/// <summary>
/// The managed GEMM. C is cut into MR×NR tiles, each computed by a register-blocked micro-kernel
/// (<see cref="IGemmKernel"/>) that keeps the whole tile in vector registers while it runs down a block of k
/// (at most <see cref="KcMax"/>).
/// </summary>
/// <remarks>
/// <para>
/// The engine's products are small (one image's convolution: m, n, k in the tens to the low thousands, all operands in
/// L2), so A and B are read where they lie whenever their layout allows: copying them into packed panels first, as
/// BLIS-style libraries always do, costs as much as the multiply at these sizes. The kernels take A through a row and
/// a column stride, which covers A and Aᵀ alike, and B through a row stride. Panels (<see cref="GemmPacking"/>) are
/// used where they pay (<see cref="Choose"/>): for Bᵀ, whose rows are the wrong way for vector loads, and for large
/// operands reused from cache many times.
/// </para>
/// <para>
/// Bᵀ is often avoided altogether: C = A·Bᵀ is computed as Cᵀ = B·Aᵀ when that packs the smaller operand
/// (<see cref="ShouldSwap"/>), the backward-filter case of convolutions. Ragged right edges use masked vector loads and
/// stores (no padding, no scratch tile), ragged bottom edges let the missing rows alias row 0 and skip their stores,
/// and a narrow first column tile aligns the rest on cache lines when the row strides allow it.
/// </para>
/// <para>
/// Every element of C is one FMA chain over p = 0…k−1 in order, cut at the same k-block boundaries, whichever tile,
/// kernel variant or alignment computes it: results depend on the shapes and values only, not on buffer addresses.
/// </para>
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

    /// <summary>Largest k-block: its 32-wide B panel (32 KiB) stays in a 48 KiB L1 while the kernels sweep over A.</summary>
    internal const int KcMax = 256;

    /// <summary>Largest n-block of packed B, and the width beyond which C is walked in rows of tiles: KcMax × NcMax
    /// floats (1 MiB) stay in L2.</summary>
    internal const int NcMax = 1024;

    /// <summary>Largest m-block of packed A: McMax × KcMax floats (144 KiB) stay in L2 next to the B block.</summary>
    internal const int McMax = 144;

    /// <summary>Largest Cᵀ (floats) held in scratch when swapping the operands of A·Bᵀ: 1 MiB.</summary>
    internal const long SwapScratchLimit = 256 * 1024;

    /// <summary>Packed panels of A and B; per thread (see <see cref="Scratch"/>).</summary>
    [ThreadStatic]
    private static float[]? workspace;

    /// <summary>Cᵀ of a swapped product; separate from <see cref="workspace"/>, which the swapped product packs into.</summary>
    [ThreadStatic]
    private static float[]? transposedC;

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
    /// The managed product (AVX-512 kernel, no operand swap) with the walk and the copies decided by the caller
    /// instead of <see cref="Choose"/>; for measuring the crossovers. Bᵀ is packed regardless.
    /// </summary>
    internal static void MultiplyPlanned(Plan plan, bool transA, bool transB, int m, int n, int k,
        float alpha, float* a, nint lda, float* b, nint ldb, float beta, float* c, nint ldc)
    {
        General<GemmKernel512>(transA, transB, plan with { PackB = plan.PackB || transB }, m, n, k,
            alpha, a, lda, b, ldb, beta, c, ldc);
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
            General<TKernel>(false, swappedTransB, Choose(swappedTransB, n, m, k, TKernel.Mr), n, m, k,
                alpha, b, ldb, a, lda, 0f, ct, m);
            GemmPacking.MergeTransposed(m, n, ct, beta, c, ldc);
            return;
        }

        General<TKernel>(transA, transB, Choose(transB, m, n, k, TKernel.Mr), m, n, k,
            alpha, a, lda, b, ldb, beta, c, ldc);
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

    /// <summary>How <see cref="General{TKernel}"/> walks and copies the operands of one product.</summary>
    /// <param name="RowOrder">Sweep the tiles of C row panel by row panel (else column panel by column panel).</param>
    /// <param name="PackA">Copy k-blocks of A into MR-row panels first.</param>
    /// <param name="PackB">Copy k-blocks of B into NR-column panels first.</param>
    internal readonly record struct Plan(bool RowOrder, bool PackA, bool PackB);

    /// <summary>
    /// Chooses the walk and the copies. The kernels can read A and B in place, which is what the engine's per-image
    /// convolution products want: there, every operand fits in L2 and copying would cost as much as multiplying
    /// (16×784×144: 79 GFLOP/s with B packed, 127 without). Measured on a Sapphire Rapids core, copying pays only
    /// when a copied block is reused from cache many times over:
    /// <list type="bullet">
    /// <item>C wide (n &gt; NcMax) and not flat: walk rows of tiles over a packed kc×NcMax block of B in L2, each A
    /// panel in L1 (64×3136×576: 97 against 87 in place).</item>
    /// <item>m large and B not tiny: the B panels are reused by m / MR row panels (256×196×2304: 107 against 96).</item>
    /// <item>A's k-block beyond L2, or large and swept by many column tiles (Aᵀ 1152×784×128: 121 against 93).</item>
    /// </list>
    /// Bᵀ is always packed: its rows are the wrong way for vector loads.
    /// </summary>
    internal static Plan Choose(bool transB, int m, int n, int k, int mr)
    {
        var rowOrder = n > NcMax && m > 4 * mr;
        var aBlock = (long)m * Balanced(k, KcMax);
        var packA = aBlock > 256 * 1024 || (n >= 256 && aBlock >= 32 * 1024);
        var packB = transB || rowOrder || (m >= 256 && (long)k * n >= 64 * 1024);
        return new Plan(rowOrder, packA, packB);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void General<TKernel>(bool transA, bool transB, Plan plan, int m, int n, int k,
        float alpha, float* a, nint lda, float* b, nint ldb, float beta, float* c, nint ldc)
        where TKernel : struct, IGemmKernel
    {
        var (rowOrder, packA, packB) = plan;
        var mr = TKernel.Mr;
        var nr = TKernel.Nr;

        // Equal blocks rather than full ones plus a short remainder: a short k-block would pay the per-tile C
        // traffic for little work.
        var kcStep = Balanced(k, KcMax);
        var ncStep = packB || rowOrder ? RoundUp(Balanced(n, NcMax), nr) : n;
        var mcStep = packA ? RoundUp(Balanced(m, McMax), mr) : m;

        // Element (i, p) of op(A) is a[i * ars + p * acs].
        var ars = transA ? 1 : lda;
        var acs = transA ? lda : 1;

        float* ap = null, bp = null;
        if (packA || packB)
        {
            // The A part is rounded up to whole cache lines so that the B panels start aligned too; B gets one panel
            // more than ncStep needs for the narrow first panel of the lead.
            var aFloats = packA ? RoundUp(mcStep * kcStep, 16) : 0;
            ap = Scratch(ref workspace, aFloats + (packB ? (ncStep + nr) * kcStep : 0));
            bp = ap + aFloats;
        }

        var lead = ColumnLead(packB, b, ldb, c, ldc, n, k, nr);
        for (var jc = 0; jc < n;)
        {
            var firstWidth = jc == 0 && lead > 0 ? lead : nr;
            var nc = Math.Min((firstWidth < nr ? firstWidth : 0) + ncStep, n - jc);
            for (var pc = 0; pc < k; pc += kcStep)
            {
                var kc = Math.Min(kcStep, k - pc);
                var betaK = pc == 0 ? beta : 1f;
                if (packB)
                {
                    // Panel 0 holds the first firstWidth columns (zero-padded to nr), panel q ≥ 1 the nr columns from
                    // firstWidth + (q − 1)·nr, so that panels and tiles line up whatever the lead.
                    var src = transB ? b + jc * ldb + pc : b + pc * ldb + jc;
                    var rest = transB ? src + firstWidth * ldb : src + firstWidth;
                    GemmPacking.PackB(src, ldb, transB, kc, Math.Min(firstWidth, nc), nr, bp);
                    if (nc > firstWidth)
                    {
                        GemmPacking.PackB(rest, ldb, transB, kc, nc - firstWidth, nr, bp + (nint)nr * kc);
                    }
                }

                var bk = packB ? bp : b + pc * ldb + jc;
                var bs = packB ? nr : ldb;
                var ck = c + jc;
                for (var ic = 0; ic < m; ic += mcStep)
                {
                    var mc = Math.Min(mcStep, m - ic);
                    if (packA)
                    {
                        GemmPacking.PackA(a + ic * ars + pc * acs, ars, acs, mc, kc, mr, ap);
                        Macro<TKernel>(rowOrder, kc, mc, nc, firstWidth, ap, 1, mr, packA, bk, bs, packB,
                            ck + ic * ldc, ldc, alpha, betaK);
                    }
                    else
                    {
                        Macro<TKernel>(rowOrder, kc, mc, nc, firstWidth, a + ic * ars + pc * acs, ars, acs, packA, bk, bs,
                            packB, ck + ic * ldc, ldc, alpha, betaK);
                    }
                }
            }

            jc += nc;
        }
    }

    /// <summary>
    /// All tiles of one mc×nc block of C over one k-block. A is packed (ars = 1, acs = MR, panels of MR rows one
    /// after the other) or in place; B is packed (panels of kc × NR, the first one <paramref name="firstWidth"/> wide)
    /// or in place (row stride bs). Column tiles are <paramref name="firstWidth"/> wide, then NR.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Macro<TKernel>(bool rowOrder, int kc, int mc, int nc, int firstWidth, float* a, nint ars,
        nint acs, bool packedA, float* b, nint bs, bool packedB, float* c, nint ldc, float alpha, float beta)
        where TKernel : struct, IGemmKernel
    {
        var mr = TKernel.Mr;
        var nr = TKernel.Nr;

        // A packed panel of MR rows is kc·MR floats on from the previous one; in place, MR rows of A are MR·ars on.
        var aPanelStep = packedA ? (nint)kc * mr : mr * ars;
        if (rowOrder)
        {
            // Rows of tiles: each A panel stays in L1 while it sweeps the B block in L2, and C is written row by row.
            for (var ir = 0; ir < mc; ir += mr)
            {
                var at = a + ir / mr * aPanelStep;
                var ct = c + ir * ldc;
                var rows = Math.Min(mr, mc - ir);
                for (var jr = 0; jr < nc; jr += jr == 0 ? firstWidth : nr)
                {
                    var cols = Math.Min(jr == 0 ? firstWidth : nr, nc - jr);
                    var bt = packedB ? b + (jr == 0 ? 0 : jr - firstWidth + nr) * (nint)kc : b + jr;
                    TKernel.Tile(kc, at, ars, acs, bt, bs, ct + jr, ldc, rows, cols, alpha, beta);
                }
            }

            return;
        }

        // Columns of tiles: each B panel is loaded into L1 once and A is swept under it.
        var narrowMr = packedA ? 0 : TKernel.NarrowMr;
        for (var jr = 0; jr < nc; jr += jr == 0 ? firstWidth : nr)
        {
            var cols = Math.Min(jr == 0 ? firstWidth : nr, nc - jr);
            var bt = packedB ? b + (jr == 0 ? 0 : jr - firstWidth + nr) * (nint)kc : b + jr;
            var ir = 0;
            if (narrowMr > 0 && cols <= nr / 2)
            {
                // A narrow column (C only that wide, or its ragged edge): taller tiles keep the FMA units busy where
                // the standard tile would run on half its accumulators.
                for (; ir + narrowMr <= mc; ir += narrowMr)
                {
                    TKernel.NarrowTile(kc, a + ir * ars, ars, acs, bt, bs, c + ir * ldc + jr, ldc, cols, alpha, beta);
                }
            }

            for (; ir < mc; ir += mr)
            {
                TKernel.Tile(kc, a + ir / mr * aPanelStep, ars, acs, bt, bs, c + ir * ldc + jr, ldc,
                    Math.Min(mr, mc - ir), cols, alpha, beta);
            }
        }
    }

    /// <summary>
    /// How many leading columns to give a narrow first tile so that every later tile's vectors start on a cache line:
    /// a vector load or store that straddles two lines costs two. B is loaded twice per k-step of a tile and C once per
    /// tile, so B is aligned when it is read in place and k is not tiny, C otherwise (packed B panels are aligned
    /// already). Only possible when a row stride keeps rows aligned alike (a multiple of 16 floats, as for 32×32 or
    /// 28×28 feature maps) and when the kernel's vectors span a whole line.
    /// </summary>
    private static int ColumnLead(bool packedB, float* b, nint ldb, float* c, nint ldc, int n, int k, int nr)
    {
        if (nr < 16 || n < 2 * nr)
        {
            return 0;
        }

        var leadB = packedB ? -1 : LineLead(b, ldb);
        var leadC = LineLead(c, ldc);
        return leadB >= 0 && (k > 32 || leadC < 0) ? leadB : Math.Max(leadC, 0);
    }

    /// <summary>Floats from <paramref name="p"/> to the next 64-byte boundary, or −1 when rows at stride
    /// <paramref name="ld"/> do not share an alignment.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int LineLead(float* p, nint ld) =>
        ld % 16 != 0 || ((nint)p & 3) != 0 ? -1 : (int)((64 - ((nint)p & 63)) & 63) / sizeof(float);

    /// <summary>Splits <paramref name="total"/> into equal blocks of at most <paramref name="max"/>; returns the block size.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Balanced(int total, int max)
    {
        var blocks = (total + max - 1) / max;
        return (total + blocks - 1) / blocks;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;

    /// <summary>
    /// A thread's scratch buffer of at least <paramref name="floats"/> floats, 64-byte aligned. Per thread because the
    /// engine calls GEMM from inside Parallel.For; pinned so that a raw pointer into it stays valid.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
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
