namespace Acp.Onnx.Tests.Support;

/// <summary>
/// A long check, skipped unless the environment variable ACP_NIGHTLY is 1. Mark it also with
/// <c>[Trait("Category", "Nightly")]</c>, so that <c>ACP_NIGHTLY=1 bash scripts/test.sh --filter Category=Nightly</c>
/// runs only the long checks.
/// </summary>
public sealed class NightlyFactAttribute : FactAttribute
{
    /// <summary>Skips the test outside nightly runs.</summary>
    public NightlyFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("ACP_NIGHTLY") != "1") Skip = "nightly check: set ACP_NIGHTLY=1 to run it";
    }
}
