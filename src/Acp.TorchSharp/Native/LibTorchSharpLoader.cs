using System.Reflection;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using TorchSharp;

namespace Acp.TorchSharp.Native;

/// <summary>
/// Makes TorchSharp's native library load on Linux distributions whose libstdc++ predates GCC 13 (Debian 12 and
/// others): LibTorch 2.10's <c>libLibTorchSharp.so</c> records a need for <c>GLIBCXX_3.4.32</c>, although the only
/// symbol behind it, <c>std::ios_base_library_init()</c>, is never called. When the process's libstdc++ lacks exactly
/// that version, a private copy with the need marked weak is loaded in its place; otherwise nothing happens.
/// </summary>
/// <remarks>
/// Why at run time rather than as a build step: the fix must hold however Acp.TorchSharp is consumed (project
/// reference, NuGet package, test host, published or installed tool), and only a run-time step sees the libstdc++ the
/// process really binds. It never writes the system's libraries, the NuGet cache, or the application's folder: the
/// copy lives in Acp's cache folder under the original's SHA-256 (so it is made once and shared, and a new TorchSharp
/// version gets its own), written to a temporary name and renamed (so concurrent processes never see half a file).
/// </remarks>
public static class LibTorchSharpLoader
{
    /// <summary>The library whose version need is made weak.</summary>
    public const string LibraryFileName = "libLibTorchSharp.so";

    /// <summary>The versions that may be made weak: those whose symbols the library references but never calls.</summary>
    public static readonly IReadOnlySet<string> WeakenableVersions = new HashSet<string>(StringComparer.Ordinal) { "GLIBCXX_3.4.32" };

    private const string StdCxx = "libstdc++.so.6";
    private static readonly Lock Gate = new();
    private static bool _done;

    /// <summary>What the last <see cref="EnsureLoaded"/> did: null before, else a one-line description.</summary>
    public static string? Outcome { get; private set; }

    /// <summary>
    /// Call before the first TorchSharp operation (every entry point of this project does). Idempotent and cheap
    /// after the first call.
    /// </summary>
    /// <exception cref="TorchBackendException">The native library needs a libstdc++ version that cannot be worked around.</exception>
    public static void EnsureLoaded()
    {
        lock (Gate)
        {
            if (_done) return;
            _done = true;
            Outcome = Load();
        }
    }

    private static string Load()
    {
        if (!OperatingSystem.IsLinux()) return "not Linux: TorchSharp loads its own libraries";
        var original = FindOriginal();
        if (original is null) return $"{LibraryFileName} not found beside the application: TorchSharp loads it its own way";
        var systemStdCxx = LoadedStdCxx();
        if (systemStdCxx is null) return $"{StdCxx} not found: nothing to check";
        var missing = MissingVersions(original, systemStdCxx);
        if (missing.Count == 0) return $"{systemStdCxx} provides every version {LibraryFileName} needs: loaded as shipped";
        var unfixable = missing.Where(v => !WeakenableVersions.Contains(v)).ToList();
        if (unfixable.Count > 0)
        {
            throw new TorchBackendException($"{LibraryFileName} needs {string.Join(", ", unfixable)} from {StdCxx}, which {systemStdCxx} does not provide; install a newer libstdc++ (GCC 13 or later).");
        }
        var copy = PatchedCopy(original, missing);
        PreloadDependencies(Path.GetDirectoryName(original)!);
        var handle = NativeLibrary.Load(copy);
        try
        {
            NativeLibrary.SetDllImportResolver(typeof(torch).Assembly, (name, _, _) => name == "LibTorchSharp" ? handle : IntPtr.Zero);
        }
        catch (InvalidOperationException)
        {
            throw new TorchBackendException($"Another component has set a native-library resolver for TorchSharp, so Acp cannot load its patched {LibraryFileName} ({copy}).");
        }
        return $"{systemStdCxx} lacks {string.Join(", ", missing)}: loaded {copy} with that need marked weak";
    }

    /// <summary>
    /// The versions <paramref name="library"/> needs (non-weak) from libstdc++ that <paramref name="stdCxx"/> does not define.
    /// </summary>
    public static IReadOnlyList<string> MissingVersions(string library, string stdCxx)
    {
        var defined = ElfSymbolVersions.ReadDefinitions(stdCxx);
        return ElfSymbolVersions.ReadNeeds(library)
            .Where(n => n.File == StdCxx && !n.IsWeak && !defined.Contains(n.Version))
            .Select(n => n.Version)
            .ToList();
    }

    /// <summary>
    /// Returns a copy of <paramref name="original"/> in <paramref name="cacheRoot"/> (default: Acp's cache folder)
    /// with each of <paramref name="versions"/> marked weak, making it only if it does not exist yet.
    /// </summary>
    public static string PatchedCopy(string original, IEnumerable<string> versions, string? cacheRoot = null)
    {
        var wanted = versions.Order(StringComparer.Ordinal).ToList();
        string hash;
        using (var stream = File.OpenRead(original)) hash = Convert.ToHexStringLower(SHA256.HashData(stream))[..16];
        var folder = Path.Combine(cacheRoot ?? CacheRoot(), "native", $"{LibraryFileName}-{hash}-{string.Join("+", wanted)}");
        var target = Path.Combine(folder, LibraryFileName);
        if (File.Exists(target)) return target;
        Directory.CreateDirectory(folder);
        var temporary = Path.Combine(folder, $".{LibraryFileName}.{Environment.ProcessId}.{Guid.NewGuid():N}");
        File.Copy(original, temporary);
        try
        {
            foreach (var version in wanted) ElfSymbolVersions.MarkNeedWeak(temporary, StdCxx, version);
            File.Move(temporary, target, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
        return target;
    }

    /// <summary>ACP_CACHE_DIR, else $XDG_CACHE_HOME/acp, else ~/.cache/acp (the folder scripts/setup.sh also uses).</summary>
    private static string CacheRoot()
    {
        if (Environment.GetEnvironmentVariable("ACP_CACHE_DIR") is { Length: > 0 } acp) return acp;
        if (Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg) return Path.Combine(xdg, "acp");
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return home.Length > 0 ? Path.Combine(home, ".cache", "acp") : Path.Combine(Path.GetTempPath(), "acp");
    }

    /// <summary>The copy the runtime would load: the host's native search folders, then TorchSharp's own folder.</summary>
    private static string? FindOriginal()
    {
        var folders = new List<string>();
        if (AppContext.GetData("NATIVE_DLL_SEARCH_DIRECTORIES") is string list)
        {
            folders.AddRange(list.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries));
        }
        if (Path.GetDirectoryName(typeof(torch).Assembly.Location) is { Length: > 0 } own)
        {
            folders.Add(own);
            folders.Add(Path.Combine(own, "runtimes", "linux-x64", "native"));
        }
        folders.Add(AppContext.BaseDirectory);
        return folders.Select(f => Path.Combine(f, LibraryFileName)).FirstOrDefault(File.Exists);
    }

    /// <summary>The libstdc++ this process has mapped (the runtime itself links it), loading it if it has not.</summary>
    private static string? LoadedStdCxx()
    {
        var mapped = MappedStdCxx();
        if (mapped is not null) return mapped;
        NativeLibrary.TryLoad(StdCxx, out _);
        return MappedStdCxx();
    }

    private static string? MappedStdCxx()
    {
        const string maps = "/proc/self/maps";
        if (!File.Exists(maps)) return null;
        return File.ReadLines(maps)
            .Select(line => line.IndexOf('/') is var slash and >= 0 ? line[slash..] : null)
            .FirstOrDefault(path => path is not null && Path.GetFileName(path).StartsWith("libstdc++.so", StringComparison.Ordinal));
    }

    /// <summary>
    /// The copy lives in another folder, so its RUNPATH ($ORIGIN) no longer finds LibTorch: load LibTorch from the
    /// original's folder first, and the loader then matches the copy's needs by soname.
    /// </summary>
    private static void PreloadDependencies(string folder)
    {
        foreach (var name in new[] { "libc10.so", "libtorch_cpu.so", "libc10_cuda.so", "libtorch_cuda.so", "libtorch.so" })
        {
            var path = Path.Combine(folder, name);
            if (File.Exists(path)) NativeLibrary.Load(path);
        }
    }
}
