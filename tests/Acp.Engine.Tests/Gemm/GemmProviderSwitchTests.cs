using Acp.Engine.Kernels;
using GemmApi = Acp.Engine.Kernels.Gemm;

namespace Acp.Engine.Tests.Gemm;

/// <summary>
/// Runs alone: the provider is process-wide, and OpenBLAS sums in another order than the managed GEMM, so switching it
/// while other tests train would change their results (it broke the bit-identical training test under load).
/// </summary>
[CollectionDefinition(nameof(SwitchesProcessWideSettings), DisableParallelization = true)]
public sealed class SwitchesProcessWideSettings;

/// <summary>Switching <see cref="GemmApi.Provider"/> changes which implementation computes the product.</summary>
[Collection(nameof(SwitchesProcessWideSettings))]
public class GemmProviderSwitchTests
{
    [Fact]
    public void SwitchingTheProviderChangesWhatRuns()
    {
        var saved = GemmApi.Provider;
        try
        {
            GemmApi.Provider = GemmProvider.Managed;
            Assert.Equal(GemmProvider.Managed, GemmApi.Provider);
            Assert.Equal(GemmProvider.Managed, GemmApi.ActiveProvider);
            var gemm = new GemmCase(21, false, true, 13, 29, 31, 1f, 0f);
            gemm.RunPublic();
            gemm.Verify("Managed via Provider");

            GemmApi.Provider = GemmProvider.Auto;
            Assert.Equal(GemmProvider.Auto, GemmApi.Provider);
            Assert.Equal(OpenBlasNative.IsAvailable && !GemmApi.HasWideSimd ? GemmProvider.OpenBlas : GemmProvider.Managed, GemmApi.ActiveProvider);

            if (OpenBlasNative.IsAvailable)
            {
                GemmApi.Provider = GemmProvider.OpenBlas;
                Assert.Equal(GemmProvider.OpenBlas, GemmApi.ActiveProvider);
                gemm = new GemmCase(22, true, false, 13, 29, 31, 1f, 0f);
                gemm.RunPublic();
                gemm.Verify("OpenBlas via Provider");
            }
            else
            {
                Assert.Throws<InvalidOperationException>(() => GemmApi.Provider = GemmProvider.OpenBlas);
                Assert.Equal(GemmProvider.Auto, GemmApi.Provider);
            }
        }
        finally
        {
            GemmApi.Provider = saved;
        }
    }
}
