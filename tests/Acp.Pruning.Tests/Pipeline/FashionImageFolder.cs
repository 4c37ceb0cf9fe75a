using System.Diagnostics;

namespace Acp.Pruning.Tests.Pipeline;

/// <summary>Image folders written by tools/make_fashion_image_folder.py (train/ and test/, ten classes of Fashion-MNIST).</summary>
internal static class FashionImageFolder
{
    /// <summary>Writes <paramref name="folder"/> with PNGs of <paramref name="size"/>×<paramref name="size"/>×3 and returns it.</summary>
    public static string Write(string folder, int trainPerClass, int testPerClass, int size = 224)
    {
        var script = LocateScript();
        var start = new ProcessStartInfo("/usr/bin/python3",
            [script, "--out", folder, "--train-per-class", $"{trainPerClass}", "--test-per-class", $"{testPerClass}", "--size", $"{size}"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start /usr/bin/python3.");
        var errors = process.StandardError.ReadToEndAsync();
        var written = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{script} failed (exit {process.ExitCode}); scripts/setup.sh installs python3-pil and Fashion-MNIST. {written}{errors.Result}");
        }
        return folder;
    }

    private static string LocateScript()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tools", "make_fashion_image_folder.py");
            if (File.Exists(candidate)) return candidate;
        }
        throw new InvalidOperationException($"tools/make_fashion_image_folder.py not found above {AppContext.BaseDirectory}.");
    }
}
