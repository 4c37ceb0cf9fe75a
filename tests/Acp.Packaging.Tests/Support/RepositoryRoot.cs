namespace Acp.Tests.Support;

/// <summary>The checkout the tests run from: the folder holding Acp.sln, found by walking up from the test assembly.</summary>
public static class RepositoryRoot
{
    private static readonly Lazy<string> Root = new(Find);

    /// <summary>Full path of the folder that holds Acp.sln.</summary>
    public static string Path => Root.Value;

    /// <summary>A path inside the checkout.</summary>
    public static string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Acp.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException($"No Acp.sln in {AppContext.BaseDirectory} or any folder above it; the tests must run from a checkout.");
    }
}
