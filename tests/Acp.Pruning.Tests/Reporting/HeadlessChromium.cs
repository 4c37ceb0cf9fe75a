using System.Diagnostics;

namespace Acp.Pruning.Tests.Reporting;

/// <summary>Debian's Chromium in headless mode: screenshots and serialised DOMs of local pages.</summary>
internal static class HeadlessChromium
{
    /// <summary>Startup alone can take seconds on a loaded two-core machine; a hung browser is killed after this.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    private static readonly string[] BinaryNames = ["chromium", "chromium-browser"];

    /// <summary>The browser's path; fails the test with what to do when it is not installed.</summary>
    public static string Binary()
    {
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            foreach (var name in BinaryNames)
            {
                var candidate = Path.Combine(directory, name);
                if (File.Exists(candidate)) return candidate;
            }
        throw new InvalidOperationException(
            "Chromium was not found on PATH (looked for chromium and chromium-browser): run scripts/setup.sh (as root) to install it.");
    }

    /// <summary>Renders <paramref name="htmlPath"/> at the given window size and returns the decoded screenshot.</summary>
    public static async Task<PngImage> ScreenshotAsync(string htmlPath, string pngPath, int width, int height)
    {
        File.Delete(pngPath);
        await RunAsync(["--hide-scrollbars", $"--window-size={width},{height}", $"--screenshot={pngPath}", FileUrl(htmlPath)]);
        if (!File.Exists(pngPath)) throw new InvalidOperationException($"Chromium exited without writing {pngPath}.");
        return PngImage.Load(pngPath);
    }

    /// <summary>The DOM after loading <paramref name="htmlPath"/> (and running its scripts), serialised by the browser.</summary>
    public static async Task<string> DumpDomAsync(string htmlPath, int width = 1200, int height = 2400) =>
        await RunAsync([$"--window-size={width},{height}", "--dump-dom", FileUrl(htmlPath)]);

    public static string FileUrl(string path) => new Uri(Path.GetFullPath(path)).AbsoluteUri;

    /// <summary>Runs the browser with the flags every call needs and returns its standard output.</summary>
    private static async Task<string> RunAsync(IReadOnlyList<string> arguments)
    {
        var profile = Directory.CreateTempSubdirectory("acp-chromium-profile-");
        try
        {
            var start = new ProcessStartInfo(Binary())
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            // Root needs --no-sandbox; a profile of its own lets tests run in parallel; sRGB and scale 1 make pixels
            // comparable with the CSS colours.
            foreach (var flag in new[]
                     {
                         "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                         "--no-default-browser-check", "--disable-extensions", "--force-color-profile=srgb",
                         "--force-device-scale-factor=1", $"--user-data-dir={profile.FullName}",
                     })
                start.ArgumentList.Add(flag);
            foreach (var argument in arguments) start.ArgumentList.Add(argument);

            using var process = Process.Start(start) ?? throw new InvalidOperationException("Chromium did not start.");
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(Timeout);
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
                throw new TimeoutException($"Chromium did not finish within {Timeout.TotalSeconds} s; killed it. Its errors:\n{Tail(await stderr)}");
            }
            var output = await stdout;
            if (process.ExitCode != 0)
                throw new InvalidOperationException($"Chromium exited with code {process.ExitCode}. Its errors:\n{Tail(await stderr)}");
            return output;
        }
        finally
        {
            try { profile.Delete(recursive: true); } catch (IOException) { /* a crash reporter may still hold a file */ }
        }
    }

    private static string Tail(string text)
    {
        var lines = text.Split('\n');
        return string.Join('\n', lines.Skip(Math.Max(0, lines.Length - 30)));
    }
}
