using System.Diagnostics;
using Acp.MLNet.Tests.Support;

namespace Acp.MLNet.Tests;

/// <summary>The README's ML.NET example compiles as printed and runs from any working directory.</summary>
public sealed class ReadmeExampleTests
{
    private const int TrainRows = 5600;
    private const int TestRows = 200;

    [Fact]
    public async Task The_README_example_compiles_and_prunes_a_model()
    {
        var repository = RepositoryRoot();
        var readme = File.ReadAllText(Path.Combine(repository, "README.md"));
        var section = readme[readme.IndexOf("## From C# (ML.NET)", StringComparison.Ordinal)..];
        var start = section.IndexOf("```csharp\n", StringComparison.Ordinal) + "```csharp\n".Length;
        var example = section[start..section.IndexOf("```", start, StringComparison.Ordinal)];

        using var folder = new TempFolder();
        var images = Directory.CreateDirectory(Path.Combine(folder.Path, "images")).FullName;
        var (pixels, labels) = Scenario.Images(TrainRows + TestRows);
        var lines = new string[pixels.Length];
        for (var i = 0; i < pixels.Length; i++)
        {
            PngWriter.WriteGray(Path.Combine(images, $"{i:D5}.png"), pixels[i], 28, 28);
            lines[i] = $"{i:D5}.png\t{labels[i]}";
        }
        File.WriteAllLines(Path.Combine(images, "train.tsv"), lines[..TrainRows]);
        File.WriteAllLines(Path.Combine(images, "test.tsv"), lines[TrainRows..]);
        var model = Scenario.WriteModel(folder.Path);

        // The example as printed, with the packages a reader's project would reference.
        var app = Path.Combine(folder.Path, "app", "readme.cs");
        Directory.CreateDirectory(Path.GetDirectoryName(app)!);
        File.WriteAllText(app, string.Join('\n',
            $"#:project {Path.Combine(repository, "src", "Acp.MLNet", "Acp.MLNet.csproj")}",
            "#:package Microsoft.ML.ImageAnalytics@6.0.0",
            "#:package Microsoft.ML.OnnxRuntime@1.32.0",
            "#:property NoWarn=NU1603",
            // A file-based app defaults to native AOT; the reader's console project does not.
            "#:property PublishAot=false",
            example));

        // Run from an unrelated working directory, with relative paths resolved against it.
        var cwd = Directory.CreateDirectory(Path.Combine(folder.Path, "elsewhere")).FullName;
        var start2 = new ProcessStartInfo("dotnet", ["run", "--file", app, "-c", "Release", "--disable-build-servers",
            "--artifacts-path", Path.Combine(folder.Path, "artifacts"), "--", Path.GetRelativePath(cwd, model), Path.GetRelativePath(cwd, images)])
        {
            WorkingDirectory = cwd,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start2)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var error = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}\n{await output}\n{await error}");

        Assert.Contains("test accuracy", await output);
        Assert.True(File.Exists(Path.Combine(images, "pruned.zip")), await output);
        var pruned = Acp.Onnx.Ir.OnnxModel.Load(Path.Combine(images, "pruned.onnx"));
        var original = Acp.Onnx.Ir.OnnxModel.Load(model);
        var macs = (Acp.Onnx.Analysis.ModelCost.Compute(pruned, Acp.Onnx.Analysis.ShapeInference.Run(pruned)).TotalMacs,
            Acp.Onnx.Analysis.ModelCost.Compute(original, Acp.Onnx.Analysis.ShapeInference.Run(original)).TotalMacs);
        Assert.True(macs.Item1 <= 0.5 * macs.Item2, $"{macs.Item1} of {macs.Item2} MACs kept");
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Acp.sln"))) return directory.FullName;
        }
        throw new InvalidOperationException($"No Acp.sln above {AppContext.BaseDirectory}.");
    }
}
