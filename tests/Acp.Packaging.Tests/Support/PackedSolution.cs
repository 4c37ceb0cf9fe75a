using Acp.Tests.Support;

namespace Acp.Packaging.Tests.Support;

/// <summary>
/// Runs <c>dotnet pack Acp.sln -c Release</c> once for every test that shares it, into a fresh temporary folder, and
/// installs the acp tool from those packages on first use. Builds go to artifacts/packaging-tests in the checkout
/// (git-ignored), away from the bin and obj folders of a developer's builds, and are incremental across runs.
/// </summary>
public sealed class PackedSolution : IDisposable
{
    /// <summary>The version every package must carry (Directory.Build.props).</summary>
    public const string Version = "0.1.0";

    /// <summary>The tool package's id.</summary>
    public const string ToolPackageId = "Acp.Cli";

    private static readonly TimeSpan PackTimeout = TimeSpan.FromMinutes(15);
    private static readonly TimeSpan InstallTimeout = TimeSpan.FromMinutes(5);

    private readonly TemporaryDirectory _temp = new("acp-packaging-");
    private readonly Lazy<string> _toolPath;

    /// <summary>Packs the solution; throws with the build output when that fails.</summary>
    public PackedSolution()
    {
        PackageDirectory = _temp.Combine("packages");
        PackResult = ProcessRunner.Run("dotnet",
            ["pack", RepositoryRoot.Combine("Acp.sln"), "-c", "Release", "-o", PackageDirectory,
             "--artifacts-path", RepositoryRoot.Combine("artifacts", "packaging-tests"), "--disable-build-servers"],
            RepositoryRoot.Path, PackTimeout).EnsureSuccess();
        Packages = Directory.EnumerateFiles(PackageDirectory, "*.nupkg").Order(StringComparer.Ordinal).Select(NuGetPackage.Open).ToList();
        SymbolPackages = Directory.EnumerateFiles(PackageDirectory, "*.snupkg").Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToList();
        _toolPath = new Lazy<string>(InstallTool);
    }

    /// <summary>The folder the packages were written to.</summary>
    public string PackageDirectory { get; }

    /// <summary>What dotnet pack printed.</summary>
    public ProcessResult PackResult { get; }

    /// <summary>Every .nupkg produced.</summary>
    public IReadOnlyList<NuGetPackage> Packages { get; }

    /// <summary>File names of every .snupkg produced.</summary>
    public IReadOnlyList<string> SymbolPackages { get; }

    /// <summary>The package with <paramref name="id"/>; fails the test when there is none.</summary>
    public NuGetPackage Package(string id) =>
        Packages.SingleOrDefault(p => p.Id == id) ?? throw new Xunit.Sdk.XunitException(
            $"dotnet pack produced no package '{id}'; it produced: {string.Join(", ", Packages.Select(p => p.Id))}.");

    /// <summary>A scratch folder outside the checkout, removed with the fixture.</summary>
    public string Scratch(string name) => Directory.CreateDirectory(_temp.Combine("scratch", name)).FullName;

    /// <summary>
    /// Full path of the acp executable installed with <c>dotnet tool install --tool-path</c> from the packed folder
    /// alone: a nuget.config that clears every other source shows the tool package carries all it needs, and a private
    /// NuGet cache keeps an older acp 0.1.0 in the machine's cache from being installed instead.
    /// </summary>
    public string ToolExecutable => _toolPath.Value;

    private string InstallTool()
    {
        var config = _temp.Combine("nuget.config");
        File.WriteAllText(config, $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="acp-packed" value="{PackageDirectory}" />
              </packageSources>
            </configuration>
            """);
        var toolPath = _temp.Combine("tool");
        ProcessRunner.Run("dotnet",
            ["tool", "install", ToolPackageId, "--tool-path", toolPath, "--configfile", config, "--version", Version],
            _temp.Path, InstallTimeout,
            new Dictionary<string, string?> { ["NUGET_PACKAGES"] = _temp.Combine("nuget-cache") }).EnsureSuccess();
        return Path.Combine(toolPath, "acp");
    }

    /// <inheritdoc/>
    public void Dispose() => _temp.Dispose();
}

/// <summary>The test classes that share one pack of the solution.</summary>
[CollectionDefinition(Name)]
public sealed class PackedSolutionCollection : ICollectionFixture<PackedSolution>
{
    /// <summary>The collection's name.</summary>
    public const string Name = "packed solution";
}
