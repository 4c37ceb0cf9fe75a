using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Acp.Tests.Support;

namespace Acp.Notebooks.Tests.Support;

/// <summary>
/// This checkout's Acp libraries packed into a folder by scripts/pack-local.sh, under a version of their own, and the
/// rewrite that points a notebook at them: the placeholder source of <c>#i "nuget: ..."</c> becomes the folder and the
/// checkout's version in <c>#r "nuget: Acp.X, version"</c> becomes the packed one.
/// </summary>
/// <remarks>
/// NuGet keeps every restored package in its global folder by id and version and never looks at the source again, so
/// packing this checkout as 0.1.0 would let the kernel load whatever 0.1.0 an earlier run left there. Each run packs a
/// version no other run has used (the checkout's, a time stamp and the process id) and deletes it from the global
/// folder when done.
/// </remarks>
public sealed partial class LocalPackages : IDisposable
{
    /// <summary>The folder a committed notebook names in its <c>#i "nuget: ..."</c> line; the tests put the packed folder there.</summary>
    public const string PlaceholderSource = "/path/to/acp/packages";

    /// <summary>The libraries the script packs, in dependency order.</summary>
    public static readonly string[] Libraries = ["Acp.Onnx", "Acp.Data", "Acp.Engine", "Acp.Pruning", "Acp.MLNet", "Acp.Reporting"];

    private static readonly TimeSpan PackTimeout = TimeSpan.FromMinutes(20);

    private readonly TemporaryDirectory _folder = new("acp-notebook-packages-");

    private LocalPackages(string version) => Version = version;

    /// <summary>The version in Directory.Build.props, which notebooks reference.</summary>
    public static string CheckoutVersion { get; } =
        XDocument.Load(RepositoryRoot.Combine("Directory.Build.props")).Descendants("Version").Select(v => v.Value.Trim()).First(v => v.Length > 0);

    /// <summary>The version the packages were packed with.</summary>
    public string Version { get; }

    /// <summary>The folder holding the packages.</summary>
    public string Folder => _folder.Path;

    /// <summary>Packs the checkout (a build of six libraries: a few minutes on a busy machine).</summary>
    /// <exception cref="InvalidOperationException">The script failed; the message holds its output.</exception>
    public static LocalPackages Pack(Action<string> log)
    {
        var stamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var packages = new LocalPackages($"{CheckoutVersion}-notebooks.{stamp}.{Environment.ProcessId}");
        log($"packing Acp {packages.Version} into {packages.Folder}");
        var result = ProcessRunner.Run("bash",
            [RepositoryRoot.Combine("scripts", "pack-local.sh"), "--version", packages.Version,
             "--build-dir", RepositoryRoot.Combine("artifacts", "notebook-tests"), packages.Folder],
            RepositoryRoot.Path, PackTimeout);
        if (result.ExitCode != 0)
        {
            packages.Dispose();
            throw new InvalidOperationException($"scripts/pack-local.sh failed.\n{result.Describe()}");
        }
        return packages;
    }

    /// <summary>A notebook cell's code with the placeholder source and the checkout's Acp version replaced by this run's.</summary>
    public string Rewrite(string code) => Rewrite(code, Folder, Version);

    /// <summary>
    /// <paramref name="code"/> with the placeholder source replaced by <paramref name="folder"/> and every Acp package
    /// reference at the checkout's version moved to <paramref name="version"/>; other references stay as written.
    /// </summary>
    public static string Rewrite(string code, string folder, string version)
    {
        code = code.Replace($"\"nuget: {PlaceholderSource}\"", $"\"nuget: {folder}\"", StringComparison.Ordinal);
        return AcpReference().Replace(code, m => m.Groups["version"].Value == CheckoutVersion
            ? $"{m.Groups["head"].Value}{version}\""
            : m.Value);
    }

    /// <summary><c>#r "nuget: Acp.X, version"</c>, with the part before the version and the version itself.</summary>
    [GeneratedRegex(@"(?<head>#r\s+""nuget:\s*Acp\.[A-Za-z.]+\s*,\s*)(?<version>[^""\s]+)""")]
    public static partial Regex AcpReference();

    /// <summary>Deletes the folder and this version from NuGet's global packages folder.</summary>
    public void Dispose()
    {
        _folder.Dispose();
        var global = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        foreach (var library in Libraries)
        {
            var restored = Path.Combine(global, library.ToLowerInvariant(), Version.ToLowerInvariant());
            try
            {
                if (Directory.Exists(restored)) Directory.Delete(restored, recursive: true);
            }
            catch (IOException)
            {
                // Best effort: a leftover version costs disk space, not correctness (no run reuses it).
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }
}
