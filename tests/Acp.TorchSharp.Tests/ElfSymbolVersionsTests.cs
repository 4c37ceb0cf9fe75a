using System.Diagnostics;
using System.Text.RegularExpressions;
using Acp.TorchSharp.Native;

namespace Acp.TorchSharp.Tests;

/// <summary>The ELF edit checked on the real libLibTorchSharp.so, with binutils' readelf as the oracle.</summary>
public sealed partial class ElfSymbolVersionsTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("acp-elf-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>The copy NuGet put in this test's output folder (never edited: every test works on a copy of it).</summary>
    internal static string ShippedLibrary =>
        new[] { AppContext.BaseDirectory, Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native") }
            .Select(f => Path.Combine(f, LibTorchSharpLoader.LibraryFileName)).First(File.Exists);

    internal static string SystemStdCxx =>
        File.ReadLines("/proc/self/maps").Select(l => l.IndexOf('/') is var s and >= 0 ? l[s..] : "")
            .First(p => Path.GetFileName(p).StartsWith("libstdc++.so", StringComparison.Ordinal));

    private string Copy(string source, string name)
    {
        var path = Path.Combine(_folder, name);
        File.Copy(source, path);
        return path;
    }

    [Fact]
    public void Reads_the_same_version_needs_as_readelf()
    {
        var expected = ReadelfNeeds(ShippedLibrary);
        var actual = ElfSymbolVersions.ReadNeeds(ShippedLibrary);
        Assert.Equal(expected, actual);
        Assert.Contains(new ElfVersionNeed("libstdc++.so.6", "GLIBCXX_3.4.32", false), actual);
    }

    [Fact]
    public void Reads_the_same_version_definitions_as_readelf()
    {
        var expected = ReadelfDefinitions(SystemStdCxx);
        Assert.Contains("GLIBCXX_3.4", expected);
        Assert.Equal(expected.Order(), ElfSymbolVersions.ReadDefinitions(SystemStdCxx).Order());
    }

    [Fact]
    public void Marking_a_need_weak_changes_only_its_flag_and_is_idempotent()
    {
        var original = File.ReadAllBytes(ShippedLibrary);
        var path = Copy(ShippedLibrary, "lib.so");

        Assert.True(ElfSymbolVersions.MarkNeedWeak(path, "libstdc++.so.6", "GLIBCXX_3.4.32"));
        var once = File.ReadAllBytes(path);
        var expected = ReadelfNeeds(ShippedLibrary).Select(n => n.Version == "GLIBCXX_3.4.32" ? n with { IsWeak = true } : n).ToList();
        Assert.Equal(expected, ReadelfNeeds(path));
        Assert.Equal(original.Length, once.Length);
        var changed = Enumerable.Range(0, once.Length).Where(i => once[i] != original[i]).ToList();
        Assert.Single(changed); // one byte of one vna_flags field

        Assert.False(ElfSymbolVersions.MarkNeedWeak(path, "libstdc++.so.6", "GLIBCXX_3.4.32"));
        Assert.Equal(once, File.ReadAllBytes(path));
        Assert.Equal(original, File.ReadAllBytes(ShippedLibrary));
    }

    [Fact]
    public void Asking_for_a_version_the_file_does_not_need_is_a_clear_error()
    {
        var path = Copy(ShippedLibrary, "lib.so");
        var error = Assert.Throws<InvalidDataException>(() => ElfSymbolVersions.MarkNeedWeak(path, "libstdc++.so.6", "GLIBCXX_9.9"));
        Assert.Equal("lib.so does not need GLIBCXX_9.9 from libstdc++.so.6.", error.Message);
        var text = Copy("/etc/hostname", "text.so");
        Assert.Contains("not an ELF file", Assert.Throws<InvalidDataException>(() => ElfSymbolVersions.ReadNeeds(text)).Message);
    }

    [Fact]
    public void The_versions_missing_from_this_system_are_what_readelf_says()
    {
        var defined = ReadelfDefinitions(SystemStdCxx).ToHashSet();
        var expected = ReadelfNeeds(ShippedLibrary).Where(n => n.File == "libstdc++.so.6" && !defined.Contains(n.Version)).Select(n => n.Version);
        Assert.Equal(expected, LibTorchSharpLoader.MissingVersions(ShippedLibrary, SystemStdCxx));
    }

    [Fact]
    public void Nothing_is_missing_from_a_libstdcxx_that_defines_the_version_or_once_the_need_is_weak()
    {
        // A stand-in for GCC 13's libstdc++: the system's with a version the library does not need (3.4.28) renamed
        // (same length) to 3.4.32.
        var bytes = File.ReadAllBytes(SystemStdCxx);
        var missing = LibTorchSharpLoader.MissingVersions(ShippedLibrary, SystemStdCxx);
        var newer = Path.Combine(_folder, "libstdc++.so.6");
        Assert.DoesNotContain(ElfSymbolVersions.ReadNeeds(ShippedLibrary), n => n.Version == "GLIBCXX_3.4.28");
        Replace(bytes, "GLIBCXX_3.4.28\0"u8, "GLIBCXX_3.4.32\0"u8);
        File.WriteAllBytes(newer, bytes);
        Assert.Contains("GLIBCXX_3.4.32", ReadelfDefinitions(newer));
        Assert.Empty(LibTorchSharpLoader.MissingVersions(ShippedLibrary, newer));

        var patched = LibTorchSharpLoader.PatchedCopy(ShippedLibrary, missing, _folder);
        Assert.Empty(LibTorchSharpLoader.MissingVersions(patched, SystemStdCxx));
    }

    [Fact]
    public void The_patched_copy_is_made_once_in_the_cache_and_the_original_is_untouched()
    {
        var before = File.ReadAllBytes(ShippedLibrary);
        var first = LibTorchSharpLoader.PatchedCopy(ShippedLibrary, ["GLIBCXX_3.4.32"], _folder);
        var written = File.GetLastWriteTimeUtc(first);
        var second = LibTorchSharpLoader.PatchedCopy(ShippedLibrary, ["GLIBCXX_3.4.32"], _folder);

        Assert.Equal(first, second);
        Assert.StartsWith(_folder, first, StringComparison.Ordinal);
        Assert.Equal(written, File.GetLastWriteTimeUtc(second));
        Assert.Equal(before, File.ReadAllBytes(ShippedLibrary));
        Assert.Contains(ReadelfNeeds(first), n => n is { Version: "GLIBCXX_3.4.32", IsWeak: true });
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(first)!)); // no temporary left behind
    }

    [Fact]
    public void This_process_loaded_torchsharp_through_the_loader()
    {
        new TorchSharpBackend().EnsureAvailable(); // the first TorchSharp use must go through the loader (docs/torchsharp.md)
        Assert.Equal(3f, global::TorchSharp.torch.ones(3).sum().item<float>());
        Assert.NotNull(LibTorchSharpLoader.Outcome);
        var missing = LibTorchSharpLoader.MissingVersions(ShippedLibrary, SystemStdCxx);
        if (missing.Count == 0) Assert.Contains("loaded as shipped", LibTorchSharpLoader.Outcome);
        else Assert.Contains("marked weak", LibTorchSharpLoader.Outcome);
    }

    private static void Replace(byte[] bytes, ReadOnlySpan<byte> from, ReadOnlySpan<byte> to)
    {
        var at = 0;
        while (bytes.AsSpan(at).IndexOf(from) is var i and >= 0)
        {
            to.CopyTo(bytes.AsSpan(at + i));
            at += i + from.Length;
        }
    }

    private static List<ElfVersionNeed> ReadelfNeeds(string path)
    {
        var result = new List<ElfVersionNeed>();
        var file = "";
        var inNeeds = false;
        foreach (var line in Readelf(path))
        {
            if (line.StartsWith("Version needs section", StringComparison.Ordinal)) { inNeeds = true; continue; }
            if (line.StartsWith("Version ", StringComparison.Ordinal) && !line.Contains("needs")) inNeeds = false;
            if (!inNeeds) continue;
            if (FileLine().Match(line) is { Success: true } f) file = f.Groups[1].Value;
            else if (NameLine().Match(line) is { Success: true } n) result.Add(new ElfVersionNeed(file, n.Groups[1].Value, n.Groups[2].Value.Contains("WEAK")));
        }
        return result;
    }

    private static List<string> ReadelfDefinitions(string path)
    {
        var result = new HashSet<string>();
        var inDefinitions = false;
        foreach (var line in Readelf(path))
        {
            if (line.StartsWith("Version definition section", StringComparison.Ordinal)) { inDefinitions = true; continue; }
            if (line.StartsWith("Version ", StringComparison.Ordinal) && !line.StartsWith("Version definition", StringComparison.Ordinal)) inDefinitions = false;
            if (inDefinitions && DefinitionLine().Match(line) is { Success: true } m) result.Add(m.Groups[1].Value);
        }
        return [.. result];
    }

    private static string[] Readelf(string path)
    {
        using var process = Process.Start(new ProcessStartInfo("readelf", ["-V", "-W", path]) { RedirectStandardOutput = true })!;
        var text = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.Equal(0, process.ExitCode);
        return text.Split('\n').Select(l => l.Trim()).ToArray();
    }

    [GeneratedRegex(@"Version: \d+\s+File: (\S+)\s+Cnt:")]
    private static partial Regex FileLine();

    [GeneratedRegex(@"Name: (\S+)\s+Flags: (.*?)\s+Version:")]
    private static partial Regex NameLine();

    [GeneratedRegex(@"(?:Name:|Parent \d+:) (\S+)")]
    private static partial Regex DefinitionLine();
}
