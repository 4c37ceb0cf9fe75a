namespace Acp.Tools.KernelGenerator;

/// <summary>One generated source file: its path from the repository root and its whole text.</summary>
internal sealed record GeneratedFile(string Path, string Text);

/// <summary>
/// Every kernel file the generator owns. The engine's register tiles are fully unrolled because the JIT keeps an
/// accumulator in its own vector register only when it is a separate local; writing them out by hand invites the one
/// typo that a test at one shape does not catch, so they are written from the loops here.
/// </summary>
internal static class GeneratedKernels
{
    /// <summary>The command that regenerates the files, for their headers.</summary>
    public const string Command = "dotnet run --project tools/KernelGenerator";

    public static IReadOnlyList<GeneratedFile> Files() =>
    [
        new("src/Acp.Engine/Kernels/ConvByChannel.Kernels.cs", ConvTiles.Source()),
        new("src/Acp.Engine/Kernels/GemmKernel512.cs", GemmTiles.Source(GemmTiles.Avx512)),
        new("src/Acp.Engine/Kernels/GemmKernel256.cs", GemmTiles.Source(GemmTiles.Avx2)),
    ];
}
