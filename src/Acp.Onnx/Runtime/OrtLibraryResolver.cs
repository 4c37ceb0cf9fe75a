using System.Runtime.InteropServices;
using System.Text;

namespace Acp.Onnx.Runtime;

/// <summary>
/// Finds and loads the ONNX Runtime shared library. The candidate list is built separately from the
/// loading so that tests can exercise the failure path without touching the process environment.
/// </summary>
internal static class OrtLibraryResolver
{
    /// <summary>Environment variable that names the library file explicitly.</summary>
    internal const string PathVariable = "ACP_ONNXRUNTIME_PATH";

    /// <summary>The library's file name inside the setup folder.</summary>
    internal const string FileName = "libonnxruntime.so.1";

    /// <summary>Names handed to the system loader when no file was found.</summary>
    internal static readonly string[] SystemNames = ["libonnxruntime.so.1", "onnxruntime"];

    /// <summary>One place to try: a file path, or a name for the system loader.</summary>
    /// <param name="Target">A file path when <paramref name="IsFile"/> is true, otherwise a library name.</param>
    /// <param name="IsFile">Whether <paramref name="Target"/> is a path that must exist.</param>
    /// <param name="Origin">Why this place is tried, for the error message.</param>
    internal readonly record struct Candidate(string Target, bool IsFile, string Origin);

    /// <summary>
    /// The places to look, in order. An explicit <paramref name="overridePath"/> (the value of
    /// <see cref="PathVariable"/>) is the only candidate when given, so that a wrong setting fails loudly
    /// instead of silently loading some other copy. Otherwise: the setup folder
    /// <c>.deps/onnxruntime/</c> in <paramref name="baseDirectory"/> or any parent, then the system loader.
    /// </summary>
    internal static IReadOnlyList<Candidate> Candidates(string? overridePath, string baseDirectory)
    {
        if (!string.IsNullOrWhiteSpace(overridePath))
        {
            return [new Candidate(Path.GetFullPath(overridePath), IsFile: true, $"from {PathVariable}")];
        }

        var candidates = new List<Candidate>();
        for (var dir = new DirectoryInfo(Path.GetFullPath(baseDirectory)); dir is not null; dir = dir.Parent)
        {
            candidates.Add(new Candidate(Path.Combine(dir.FullName, ".deps", "onnxruntime", FileName), IsFile: true, "setup folder"));
        }

        foreach (var name in SystemNames)
        {
            candidates.Add(new Candidate(name, IsFile: false, "system loader"));
        }

        return candidates;
    }

    /// <summary>The candidates for this process: its environment and its base directory.</summary>
    internal static IReadOnlyList<Candidate> DefaultCandidates() =>
        Candidates(Environment.GetEnvironmentVariable(PathVariable), AppContext.BaseDirectory);

    /// <summary>
    /// Loads the first candidate that loads. Missing files are skipped without calling the loader.
    /// When nothing loads, throws an <see cref="OrtException"/> listing every place and why it failed.
    /// </summary>
    internal static (IntPtr Handle, string LoadedFrom) Load(IReadOnlyList<Candidate> candidates)
    {
        var failures = new List<string>();
        foreach (var candidate in candidates)
        {
            if (candidate.IsFile && !File.Exists(candidate.Target))
            {
                failures.Add($"{candidate.Target} ({candidate.Origin}): no such file");
                continue;
            }

            try
            {
                // The assembly overload lets a bare name also match a copy next to the application.
                var handle = candidate.IsFile
                    ? NativeLibrary.Load(candidate.Target)
                    : NativeLibrary.Load(candidate.Target, typeof(OrtLibraryResolver).Assembly, searchPath: null);
                return (handle, candidate.Target);
            }
            catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
            {
                failures.Add($"{candidate.Target} ({candidate.Origin}): {Shorten(e.Message)}");
            }
        }

        var message = new StringBuilder("The ONNX Runtime native library (")
            .Append(FileName)
            .Append(") could not be loaded. Looked in:");
        foreach (var failure in failures)
        {
            message.Append("\n  - ").Append(failure);
        }

        message.Append("\nRun scripts/setup.sh to fetch it into .deps/onnxruntime/, or set ")
            .Append(PathVariable)
            .Append(" to the full path of ")
            .Append(FileName)
            .Append('.');
        throw new OrtException(OrtErrorCode.NoSuchFile, message.ToString());
    }

    private static string Shorten(string text)
    {
        var flat = text.ReplaceLineEndings(" ").Trim();
        return flat.Length <= 400 ? flat : string.Concat(flat.AsSpan(0, 400), "...");
    }
}
