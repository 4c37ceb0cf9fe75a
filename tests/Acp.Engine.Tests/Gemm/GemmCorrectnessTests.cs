using Acp.Engine.Kernels;

namespace Acp.Engine.Tests.Gemm;

/// <summary>
/// Every provider and every managed vector width against a double-precision reference. The provider is passed per
/// call, not set process-wide, so these tests run alongside other kernels' tests without changing what they run on.
/// </summary>
public class GemmCorrectnessTests
{
    private static readonly int[] Sizes = [1, 2, 3, 5, 7, 8, 9, 11, 13, 15, 16, 17, 19, 23, 29, 31, 32, 33, 37, 41, 47, 48, 53, 61, 64, 67, 70];
    private static readonly float[] Alphas = [1f, -0.5f, 2.25f];
    private static readonly float[] Betas = [0f, 1f, -1.5f, 0.3f];

    /// <summary>Every path as "provider/width" (strings, because the width enum is internal and theories are public).</summary>
    private static readonly string[] AllPaths =
        ["OpenBlas/Auto", "Managed/Auto", "Managed/Vector512", "Managed/Vector256", "Managed/Vector128", "Managed/Scalar"];

    public static TheoryData<string> Paths => new(AllPaths);

    public static TheoryData<string, bool, bool> PathsAndTransposes
    {
        get
        {
            var data = new TheoryData<string, bool, bool>();
            foreach (var path in AllPaths)
            {
                foreach (var transA in new[] { false, true })
                {
                    foreach (var transB in new[] { false, true })
                    {
                        data.Add(path, transA, transB);
                    }
                }
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(PathsAndTransposes))]
    public void RandomOddSizesMatchTheReference(string path, bool transA, bool transB)
    {
        if (!Available(path, out var provider, out var width))
        {
            return;
        }

        var random = new Random(HashCode.Combine(transA, transB, 1234));
        for (var trial = 0; trial < 60; trial++)
        {
            // Half the sizes from the list (primes, multiples of the tile sizes and their neighbours), half uniform.
            int Size() => random.Next(2) == 0 ? Sizes[random.Next(Sizes.Length)] : random.Next(1, 71);
            var gemm = new GemmCase(random.Next(), transA, transB, Size(), Size(), Size(),
                Alphas[random.Next(Alphas.Length)], Betas[random.Next(Betas.Length)],
                padA: random.Next(4) == 0 ? 0 : random.Next(1, 9), padB: random.Next(4) == 0 ? 0 : random.Next(1, 9),
                padC: random.Next(4) == 0 ? 0 : random.Next(1, 9));
            gemm.Run(provider, width);
            gemm.Verify($"{provider}/{width} trial {trial}");
        }
    }

    [Theory]
    [MemberData(nameof(PathsAndTransposes))]
    public void EveryTileEdgeIsCovered(string path, bool transA, bool transB)
    {
        if (!Available(path, out var provider, out var width))
        {
            return;
        }

        // m and n through one to two tiles of every kernel (up to 8×32), so every ragged-edge variant runs, with
        // beta = 0 and NaN in C and with beta ≠ 0.
        var seed = 0;
        for (var m = 1; m <= 17; m++)
        {
            foreach (var n in new[] { 1, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 24, 31, 32, 33, 47, 48, 49, 63, 64, 65 })
            {
                var gemm = new GemmCase(++seed, transA, transB, m, n, 1 + seed % 13, seed % 3 == 0 ? -0.5f : 1f,
                    seed % 2 == 0 ? 0f : 0.75f, padA: seed % 3, padB: seed % 5, padC: seed % 4);
                gemm.Run(provider, width);
                gemm.Verify($"{provider}/{width} m {m} n {n}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(PathsAndTransposes))]
    public void LargeSizesCrossTheBlockBoundaries(string path, bool transA, bool transB)
    {
        if (!Available(path, out var provider, out var width) || width == GemmManaged.Width.Scalar)
        {
            return;
        }

        // k beyond one and two k-blocks (KcMax = 256), n beyond one n-block (NcMax = 1024) with and without row order,
        // A and B packed (see PlansOfTheLargeShapes).
        (int M, int N, int K)[] shapes = [(19, 45, 257), (33, 70, 513), (9, 1100, 37), (40, 1100, 20), (130, 300, 256), (260, 130, 600), (16, 784, 144)];
        var seed = 77;
        foreach (var (m, n, k) in shapes)
        {
            foreach (var beta in new[] { 0f, 0.5f })
            {
                var gemm = new GemmCase(++seed, transA, transB, m, n, k, 0.75f, beta, padA: 3, padB: 1, padC: 2);
                gemm.Run(provider, width);
                gemm.Verify($"{provider}/{width} {m}×{n}×{k}");
            }
        }
    }

    [Fact]
    public void PlansOfTheLargeShapes()
    {
        // Pins that LargeSizesCrossTheBlockBoundaries reaches every walk and copy of the managed driver.
        Assert.Equal(new GemmManaged.Plan(RowOrder: false, PackA: false, PackB: false), GemmManaged.Choose(false, 9, 1100, 37, 8));
        Assert.Equal(new GemmManaged.Plan(RowOrder: true, PackA: false, PackB: true), GemmManaged.Choose(false, 40, 1100, 20, 8));
        Assert.Equal(new GemmManaged.Plan(RowOrder: false, PackA: true, PackB: false), GemmManaged.Choose(false, 130, 300, 256, 8));
        Assert.Equal(new GemmManaged.Plan(RowOrder: false, PackA: false, PackB: true), GemmManaged.Choose(false, 260, 130, 600, 8));
        Assert.True(GemmManaged.ShouldSwap(false, true, 16, 144, 784));
        Assert.False(GemmManaged.ShouldSwap(false, true, 64, 576, 49));
        Assert.True(GemmManaged.ShouldSwap(true, true, 20, 30, 40));
        Assert.False(GemmManaged.ShouldSwap(false, false, 16, 144, 784));
    }

    [Theory]
    [MemberData(nameof(PathsAndTransposes))]
    public void EveryAlignmentOfBAndCIsHandled(string path, bool transA, bool transB)
    {
        if (!Available(path, out var provider, out var width))
        {
            return;
        }

        // Row strides that are multiples of 16 floats let the driver split off a narrow first column tile to align
        // the rest on cache lines; every offset of B and C within a line, in place and packed, small and large k.
        var seed = 300;
        // (40, 1040, 12) walks rows of tiles over packed B, whose first panel is then the narrow one.
        foreach (var (m, n, k) in new[] { (9, 70, 40), (17, 64, 8), (260, 66, 30), (40, 1040, 12) })
        {
            for (var offset = 0; offset < 16; offset += m > 30 ? 5 : 1)
            {
                var ldb = (transB ? k : n) / 16 * 16 + 16;
                var ldc = n / 16 * 16 + 16;
                var gemm = new GemmCase(++seed, transA, transB, m, n, k, 1f, offset % 2 == 0 ? 0f : -1f,
                    padB: ldb - (transB ? k : n), padC: ldc - n, offsetB: offset, guard: 16 + (offset * 7 % 16));
                gemm.Run(provider, width);
                gemm.Verify($"{provider}/{width} {m}×{n}×{k} B offset {offset}, C guard {gemm.Guard}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void TheConvolutionShapesMatchTheReference(string path)
    {
        if (!Available(path, out var provider, out var width))
        {
            return;
        }

        // Forward (W·col), backward-data (Wᵀ·dY), backward-filter (dY·colᵀ) of three im2col convolutions.
        (int Cout, int Hw, int Ckk)[] convs = [(16, 784, 144), (32, 196, 288), (64, 49, 576)];
        var seed = 5;
        foreach (var (cout, hw, ckk) in convs)
        {
            var forward = new GemmCase(++seed, false, false, cout, hw, ckk, 1f, 0f);
            var data = new GemmCase(++seed, true, false, ckk, hw, cout, 1f, 0f);
            var filter = new GemmCase(++seed, false, true, cout, ckk, hw, 1f, 1f);
            foreach (var gemm in new[] { forward, data, filter })
            {
                gemm.Run(provider, width);
                gemm.Verify($"{provider}/{width} conv {cout}×{hw}×{ckk}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void DegenerateSizesScaleCOrLeaveItAlone(string path)
    {
        if (!Available(path, out var provider, out var width))
        {
            return;
        }

        foreach (var transA in new[] { false, true })
        {
            foreach (var transB in new[] { false, true })
            {
                // k = 0: C = beta·C (zeros for beta = 0, whatever C held).
                foreach (var beta in new[] { 0f, 1f, -2f })
                {
                    var gemm = new GemmCase(3, transA, transB, 5, 7, 0, 1.5f, beta, padC: 2);
                    gemm.Run(provider, width);
                    gemm.Verify($"k = 0, beta = {beta}");
                }

                // m = 0 or n = 0: nothing to write; the guard band checks nothing is.
                foreach (var (m, n) in new[] { (0, 6), (6, 0), (0, 0) })
                {
                    var gemm = new GemmCase(4, transA, transB, m, n, 3, 1f, 0f);
                    gemm.Run(provider, width);
                    gemm.Verify($"m = {m}, n = {n}");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void AlphaZeroDoesNotReadAOrB(string path)
    {
        if (!Available(path, out var provider, out var width))
        {
            return;
        }

        var gemm = new GemmCase(8, false, false, 6, 9, 4, 0f, 0.5f);
        Array.Fill(gemm.A, float.NaN);
        Array.Fill(gemm.B, float.PositiveInfinity);
        gemm.Run(provider, width);
        for (var i = 0; i < 6; i++)
        {
            for (var j = 0; j < 9; j++)
            {
                Assert.Equal(0.5f * gemm.COriginal[19 + i * 9 + j], gemm.C[i * 9 + j]);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void ConcurrentCallsFromParallelLoopsAreIndependent(string path)
    {
        if (!Available(path, out var provider, out var width))
        {
            return;
        }

        // Kernels call GEMM from inside Parallel.For: per-thread scratch must not be shared, OpenBLAS must be
        // reentrant. Bᵀ cases use the packing scratch.
        var cases = Enumerable.Range(0, 48)
            .Select(i => new GemmCase(i, i % 2 == 1, i % 3 != 0, 20 + i % 17, 30 + i * 7 % 41, 40 + i % 23, 1f, i % 2 == 0 ? 0f : 1f))
            .ToArray();
        Parallel.ForEach(cases, new ParallelOptions { MaxDegreeOfParallelism = 8 }, gemm => gemm.Run(provider, width));
        for (var i = 0; i < cases.Length; i++)
        {
            cases[i].Verify($"{provider}/{width} parallel case {i}");
        }
    }

    [Fact]
    public void ThePublicEntryPointUsesTheActiveProvider()
    {
        var gemm = new GemmCase(11, true, true, 23, 41, 29, -1f, 0f, padA: 2, padB: 3, padC: 1);
        gemm.RunPublic();
        gemm.Verify("public Multiply");
    }

    [Fact]
    public void AForcedWidthTheCpuLacksIsRefused()
    {
        foreach (var width in Enum.GetValues<GemmManaged.Width>().Where(w => !GemmManaged.IsSupported(w)))
        {
            var gemm = new GemmCase(1, false, false, 2, 2, 2, 1f, 0f);
            Assert.Throws<PlatformNotSupportedException>(() => gemm.Run(GemmProvider.Managed, width));
        }
    }

    /// <summary>
    /// Whether this machine has the path. xunit 2 cannot skip at run time, so a missing path passes vacuously; the
    /// environment tests pin what this machine is expected to have.
    /// </summary>
    private static bool Available(string path, out GemmProvider provider, out GemmManaged.Width width)
    {
        var parts = path.Split('/');
        provider = Enum.Parse<GemmProvider>(parts[0]);
        width = Enum.Parse<GemmManaged.Width>(parts[1]);
        return (provider != GemmProvider.OpenBlas || OpenBlasNative.IsAvailable) && GemmManaged.IsSupported(width);
    }
}
