using Acp.Tools.KernelGenerator;

namespace Acp.Engine.Tests.Generated;

/// <summary>
/// The unrolled kernels in src/Acp.Engine/Kernels are written by tools/KernelGenerator, whose source this project
/// compiles: a committed file that differs from what the generator writes (an edit by hand, or a generator change not
/// run) fails here. Fix it with <c>dotnet run --project tools/KernelGenerator</c> from the repository root.
/// </summary>
public sealed class GeneratedKernelTests
{
    public static TheoryData<string> GeneratedPaths() => [.. GeneratedKernels.Files().Select(f => f.Path)];

    [Theory]
    [MemberData(nameof(GeneratedPaths))]
    public void Committed_file_is_what_the_generator_writes(string path)
    {
        var expected = GeneratedKernels.Files().Single(f => f.Path == path).Text;
        var committed = File.ReadAllText(Path.Combine(RepositoryRoot(), path));
        if (committed == expected) return;
        var committedLines = committed.Split('\n');
        var expectedLines = expected.Split('\n');
        var line = Enumerable.Range(0, Math.Min(committedLines.Length, expectedLines.Length)).FirstOrDefault(i => committedLines[i] != expectedLines[i], Math.Min(committedLines.Length, expectedLines.Length));
        Assert.Fail($"{path} differs from the output of tools/KernelGenerator at line {line + 1} " +
            $"(committed: '{committedLines.ElementAtOrDefault(line)?.Trim()}', generated: '{expectedLines.ElementAtOrDefault(line)?.Trim()}'). " +
            $"Run `{GeneratedKernels.Command}` from the repository root and commit the result, or move the hand edit into the generator.");
    }

    /// <summary>The folder holding Acp.sln, found by walking up from the test assembly's folder.</summary>
    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Acp.sln"))) return folder.FullName;
        }
        throw new InvalidOperationException($"No Acp.sln above {AppContext.BaseDirectory}; the generated-kernel tests run from the repository's build output.");
    }
}
