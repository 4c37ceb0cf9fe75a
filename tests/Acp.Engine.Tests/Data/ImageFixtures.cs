using System.Diagnostics;
using System.Text.Json;

namespace Acp.Engine.Tests.Data;

/// <summary>One decodable file of tools/generate_image_fixtures.py with PIL's pixels for it.</summary>
/// <param name="File">Path relative to the fixture folder.</param>
/// <param name="Height">Rows.</param>
/// <param name="Width">Columns.</param>
/// <param name="Channels">1 for grey images, 3 for colour ones.</param>
/// <param name="Native">PIL's pixels, HWC, <paramref name="Channels"/> channels.</param>
/// <param name="Gray">PIL's grey conversion, H×W.</param>
/// <param name="Rgb">RGB, HWC.</param>
/// <param name="Resized">
/// For the uniform images: PIL's pixels resized and centre-cropped, CHW, keyed by shape ("3x7x9" for 3 channels, 7
/// rows, 9 columns).
/// </param>
public sealed record DecodeCase(string File, int Height, int Width, int Channels, byte[] Native, byte[] Gray, byte[] Rgb,
    IReadOnlyDictionary<string, byte[]> Resized)
{
    /// <inheritdoc/>
    public override string ToString() => File;
}

/// <summary>One resize of tools/generate_image_fixtures.py: PIL's resized and centre-cropped pixels, CHW.</summary>
public sealed record ResizeCase(string File, int Height, int Width, int Channels, int ScaledHeight, int ScaledWidth, int Top, int Left, byte[] Expected)
{
    /// <inheritdoc/>
    public override string ToString() => $"{File} → {Channels}×{Height}×{Width}";
}

/// <summary>One broken file and a phrase its error message must contain.</summary>
public sealed record CorruptCase(string File, string Phrase);

/// <summary>
/// The PNG and JPEG files that tools/generate_image_fixtures.py writes with PIL (and by hand) and PIL's decoding of
/// them. Generated once per test run into a temporary folder (about a second; needs /usr/bin/python3 with PIL and
/// numpy, which scripts/setup.sh installs), deleted when the process exits.
/// </summary>
public static class ImageFixtures
{
    private static readonly Lazy<string> Generated = new(Generate, LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly Lazy<JsonElement> ManifestJson = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, "manifest.json"))).RootElement.Clone());

    /// <summary>The folder holding the generated files.</summary>
    public static string Folder => Generated.Value;

    /// <summary>Full path of a generated file.</summary>
    public static string PathOf(string relative) => Path.Combine(Folder, relative);

    private static readonly Lazy<List<DecodeCase>> Decodes = new(() => Cases("decode"));
    private static readonly Lazy<List<DecodeCase>> Uniforms = new(() => Cases("uniform"));
    private static readonly Lazy<List<ResizeCase>> Resizes = new(ReadResizeCases);

    /// <summary>The single-image cases (PNG and JPEG), in manifest order.</summary>
    public static IReadOnlyList<DecodeCase> DecodeCases => Decodes.Value;

    /// <summary>Same-size (10 rows × 12 columns) images for data set tests.</summary>
    public static IReadOnlyList<DecodeCase> UniformCases => Uniforms.Value;

    /// <summary>The resize cases.</summary>
    public static IReadOnlyList<ResizeCase> ResizeCases => Resizes.Value;

    private static List<ResizeCase> ReadResizeCases() =>
        ManifestJson.Value.GetProperty("resize").EnumerateArray().Select(e => new ResizeCase(
            e.GetProperty("file").GetString()!, e.GetProperty("height").GetInt32(), e.GetProperty("width").GetInt32(),
            e.GetProperty("channels").GetInt32(), e.GetProperty("scaledHeight").GetInt32(), e.GetProperty("scaledWidth").GetInt32(),
            e.GetProperty("top").GetInt32(), e.GetProperty("left").GetInt32(), Raw(e.GetProperty("expected").GetString()!))).ToList();

    /// <summary>The broken files.</summary>
    public static IReadOnlyList<CorruptCase> CorruptCases =>
        ManifestJson.Value.GetProperty("corrupt").EnumerateArray()
            .Select(e => new CorruptCase(e.GetProperty("file").GetString()!, e.GetProperty("phrase").GetString()!)).ToList();

    /// <summary>The decode case of one file.</summary>
    public static DecodeCase Case(string file) =>
        DecodeCases.Concat(UniformCases).SingleOrDefault(c => c.File == file) ?? throw new KeyNotFoundException($"No image fixture {file}.");

    /// <summary>HWC interleaved pixels as CHW planes.</summary>
    public static byte[] ToChw(byte[] hwc, int height, int width, int channels)
    {
        var chw = new byte[hwc.Length];
        for (var p = 0; p < height * width; p++)
        {
            for (var c = 0; c < channels; c++) chw[c * height * width + p] = hwc[p * channels + c];
        }
        return chw;
    }

    /// <summary>Asserts equal pixel arrays, naming the first differing pixel and how many differ.</summary>
    public static void AssertPixels(byte[] expected, byte[] actual, string what, int tolerance = 0)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: {actual.Length} bytes, expected {expected.Length}");
        var bad = Enumerable.Range(0, expected.Length).Where(i => Math.Abs(expected[i] - actual[i]) > tolerance).ToList();
        Assert.True(bad.Count == 0,
            bad.Count == 0 ? "" : $"{what}: {bad.Count} of {expected.Length} bytes differ by more than {tolerance}; first at {bad[0]}: {actual[bad[0]]}, PIL {expected[bad[0]]}");
    }

    private static byte[] Raw(string relative) => File.ReadAllBytes(PathOf(relative));

    private static List<DecodeCase> Cases(string section) =>
        ManifestJson.Value.GetProperty(section).EnumerateArray().Select(e => new DecodeCase(
            e.GetProperty("file").GetString()!, e.GetProperty("height").GetInt32(), e.GetProperty("width").GetInt32(),
            e.GetProperty("channels").GetInt32(), Raw(e.GetProperty("native").GetString()!), Raw(e.GetProperty("gray").GetString()!),
            Raw(e.GetProperty("rgb").GetString()!),
            e.TryGetProperty("resized", out var resized)
                ? resized.EnumerateObject().ToDictionary(p => p.Name, p => Raw(p.Value.GetString()!))
                : new Dictionary<string, byte[]>())).ToList();

    private static string Generate()
    {
        var script = LocateScript();
        var folder = Path.Combine(Path.GetTempPath(), "acp-image-fixtures-" + Guid.NewGuid().ToString("N"));
        var start = new ProcessStartInfo("/usr/bin/python3", [script, "--out", folder])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start /usr/bin/python3.");
        var errors = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{script} failed (exit {process.ExitCode}); scripts/setup.sh installs python3-pil. {output}{errors.Result}");
        }
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException)
            {
                // Best effort: a leftover temp folder must not fail the run.
            }
        };
        return folder;
    }

    private static string LocateScript()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tools", "generate_image_fixtures.py");
            if (File.Exists(candidate)) return candidate;
        }
        throw new InvalidOperationException($"tools/generate_image_fixtures.py not found above {AppContext.BaseDirectory}.");
    }
}
