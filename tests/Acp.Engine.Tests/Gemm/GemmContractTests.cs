using Acp.Engine.Kernels;
using GemmApi = Acp.Engine.Kernels.Gemm;

namespace Acp.Engine.Tests.Gemm;

/// <summary>Argument validation, provider selection and the environment the GEMM runs in.</summary>
public class GemmContractTests
{
    [Fact]
    public void NegativeSizesAreRejectedWithTheirValues()
    {
        var buffer = new float[64];
        var e = Assert.Throws<ArgumentException>(() => GemmApi.Multiply(false, false, 2, -3, 4, 1, buffer, 4, buffer, 4, 0, buffer, 4));
        Assert.Contains("m = 2, n = -3, k = 4", e.Message);
        Assert.Throws<ArgumentException>(() => GemmApi.Multiply(false, false, -1, 2, 2, 1, buffer, 2, buffer, 2, 0, buffer, 2));
        Assert.Throws<ArgumentException>(() => GemmApi.Multiply(false, false, 1, 2, -2, 1, buffer, 2, buffer, 2, 0, buffer, 2));
    }

    [Theory]
    [InlineData(false, false, 5, 7, 9, 8, 7, 7, "lda", "lda = 8", "9 columns of A")]
    [InlineData(true, false, 5, 7, 9, 4, 7, 7, "lda", "lda = 4", "5 columns of A")]
    [InlineData(false, false, 5, 7, 9, 9, 6, 7, "ldb", "ldb = 6", "7 columns of B")]
    [InlineData(false, true, 5, 7, 9, 9, 8, 7, "ldb", "ldb = 8", "9 columns of B")]
    [InlineData(false, false, 5, 7, 9, 9, 7, 6, "ldc", "ldc = 6", "7 columns of C")]
    public void StridesSmallerThanARowAreRejected(bool transA, bool transB, int m, int n, int k, int lda, int ldb, int ldc,
        string parameter, string stride, string columns)
    {
        var buffer = new float[1000];
        var e = Assert.Throws<ArgumentException>(() => GemmApi.Multiply(transA, transB, m, n, k, 1, buffer, lda, buffer, ldb, 0, buffer, ldc));
        Assert.Equal(parameter, e.ParamName);
        Assert.Contains(stride, e.Message);
        Assert.Contains(columns, e.Message);
    }

    [Fact]
    public void ShortSpansAreRejectedWithTheNeededLength()
    {
        // A is 4×6 at stride 10: the last row needs only its 6 columns, so 36 elements suffice and 35 do not.
        var a = new float[36];
        var b = new float[6 * 3];
        var c = new float[20];
        GemmApi.Multiply(false, false, 4, 3, 6, 1, a, 10, b, 3, 0, c, 3);
        var e = Assert.Throws<ArgumentException>(() => GemmApi.Multiply(false, false, 4, 3, 6, 1, a.AsSpan(0, 35), 10, b, 3, 0, c, 3));
        Assert.Equal("a", e.ParamName);
        Assert.Contains("holds 35", e.Message);
        Assert.Contains("needs 36", e.Message);

        e = Assert.Throws<ArgumentException>(() => GemmApi.Multiply(false, true, 4, 3, 6, 1, a, 10, b.AsSpan(0, 17), 6, 0, c, 3));
        Assert.Equal("b", e.ParamName);
        Assert.Contains("needs 18", e.Message);

        e = Assert.Throws<ArgumentException>(() => GemmApi.Multiply(false, false, 4, 3, 6, 1, a, 10, b, 3, 0, c.AsSpan(0, 14), 5));
        Assert.Equal("c", e.ParamName);
        Assert.Contains("needs 18", e.Message);
    }

    [Fact]
    public void EmptyProductsAcceptEmptySpans()
    {
        GemmApi.Multiply(false, false, 0, 5, 3, 1, [], 3, new float[15], 5, 0, [], 5);
        GemmApi.Multiply(true, true, 4, 0, 3, 1, new float[12], 4, [], 3, 0, [], 0);
        var c = new float[] { float.NaN, float.NaN, 3 };
        GemmApi.Multiply(false, false, 1, 3, 0, 1, [], 0, [], 3, 0, c, 3);
        Assert.Equal([0f, 0f, 0f], c);
    }

    [Fact]
    public void AutoPrefersManagedWithWideSimdAndOpenBlasOnlyWhenItLoads()
    {
        Assert.Equal(GemmProvider.Managed, GemmApi.Resolve(GemmProvider.Auto, openBlasAvailable: true, null, wideSimd: true));
        Assert.Equal(GemmProvider.OpenBlas, GemmApi.Resolve(GemmProvider.Auto, openBlasAvailable: true, null, wideSimd: false));
        Assert.Equal(GemmProvider.Managed, GemmApi.Resolve(GemmProvider.Auto, openBlasAvailable: false, "missing", wideSimd: false));
        Assert.Equal(GemmProvider.Managed, GemmApi.Resolve(GemmProvider.Managed, openBlasAvailable: true, null));
        Assert.Equal(GemmProvider.OpenBlas, GemmApi.Resolve(GemmProvider.OpenBlas, openBlasAvailable: true, null));
    }

    [Fact]
    public void RequestingOpenBlasWhenItCannotLoadSaysWhy()
    {
        var e = Assert.Throws<InvalidOperationException>(() =>
            GemmApi.Resolve(GemmProvider.OpenBlas, openBlasAvailable: false, "libopenblas.so.0: not found or not loadable"));
        Assert.Contains("OpenBLAS cannot be loaded", e.Message);
        Assert.Contains("libopenblas.so.0: not found", e.Message);
        Assert.Contains("Managed", e.Message);
    }

    [Fact]
    public void ValuesOutsideTheEnumAreRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => GemmApi.Provider = (GemmProvider)42);
        Assert.NotEqual((GemmProvider)42, GemmApi.Provider);
    }

    [Fact]
    public void OpenBlasIsLoadedAndSingleThreaded()
    {
        // scripts/setup.sh installs libopenblas0-pthread; without it this machine would silently test only the
        // managed path.
        Assert.True(OpenBlasNative.IsAvailable, $"OpenBLAS did not load: {OpenBlasNative.UnavailableReason}");
        Assert.Equal(1, OpenBlasNative.Threads);
    }

    [Fact]
    public void TheWidestSupportedKernelIsTheDefault()
    {
        var expected = new[] { GemmManaged.Width.Vector512, GemmManaged.Width.Vector256, GemmManaged.Width.Vector128 }
            .FirstOrDefault(GemmManaged.IsSupported, GemmManaged.Width.Scalar);
        Assert.Equal(expected, GemmManaged.BestWidth);
        Assert.True(GemmManaged.IsSupported(GemmManaged.Width.Scalar));
    }
}
