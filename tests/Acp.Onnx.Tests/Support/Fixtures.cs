using System.Text.Json;

namespace Acp.Onnx.Tests.Support;

/// <summary>
/// The models that tools/generate_fixtures.py exports (real torchvision networks and tiny edge cases) and its
/// manifest of PyTorch-computed facts about them. scripts/setup.sh generates them into the cache folder.
/// </summary>
public static class Fixtures
{
    private static readonly Lazy<string> DirectoryPath = new(Locate);
    private static readonly Lazy<JsonElement> ManifestJson = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(Directory, "manifest.json"))).RootElement.Clone());

    /// <summary>The folder holding the generated models.</summary>
    public static string Directory => DirectoryPath.Value;

    /// <summary>
    /// The folder of tools/generate_engine_fixtures.py: ResNet-20 models with PyTorch's gradients, running statistics
    /// and SGD steps for a fixed batch.
    /// </summary>
    public static string EngineDirectory => Path.Combine(Path.GetDirectoryName(Directory)!, "engine-fixtures");

    /// <summary>Full path of an engine fixture file.</summary>
    public static string EnginePathOf(string file)
    {
        var path = Path.Combine(EngineDirectory, file);
        if (!File.Exists(path)) throw new FileNotFoundException($"Engine fixture '{file}' is missing from {EngineDirectory}; run scripts/setup.sh.", path);
        return path;
    }

    /// <summary>
    /// The folder of the ImageNet-size models (scripts/setup.sh): tools/generate_imagenet_fixtures.py's 224-px torchvision
    /// exports (<c>resnet18.224.onnx</c>, <c>resnet50.224.onnx</c>, <c>mobilenet_v2.224.onnx</c>, facts in
    /// <c>imagenet.json</c>) and <c>resnet18.cntk.onnx</c>, the CNTK export of the NuGet package
    /// Microsoft.ML.DnnImageFeaturizer.ResNet18.
    /// </summary>
    public static string ImagenetDirectory => Path.Combine(Path.GetDirectoryName(Directory)!, "imagenet");

    /// <summary>Full path of an ImageNet-size model.</summary>
    public static string ImagenetPathOf(string file)
    {
        var path = Path.Combine(ImagenetDirectory, file);
        if (!File.Exists(path)) throw new FileNotFoundException($"Model '{file}' is missing from {ImagenetDirectory}; run scripts/setup.sh.", path);
        return path;
    }

    /// <summary>PyTorch's facts (params_expected, macs_expected, shapes) about a 224-px torchvision export.</summary>
    public static JsonElement ImagenetManifest(string file) =>
        JsonDocument.Parse(File.ReadAllText(ImagenetPathOf("imagenet.json"))).RootElement.GetProperty(file).Clone();

    /// <summary>The torchvision models, each exported with BatchNormalization folded and kept.</summary>
    public static readonly string[] TorchvisionNames = ["resnet18", "resnet50", "mobilenet_v2", "densenet121", "vgg11_bn"];

    /// <summary>File names of every torchvision export (both forms).</summary>
    public static IEnumerable<string> TorchvisionFiles =>
        TorchvisionNames.SelectMany(n => new[] { $"{n}.folded.onnx", $"{n}.bn.onnx" });

    /// <summary>xunit member data: one row per torchvision export.</summary>
    public static TheoryData<string> TorchvisionData => new(TorchvisionFiles);

    /// <summary>File names of the hand-built edge-case models.</summary>
    public static IEnumerable<string> EdgeFiles =>
        System.IO.Directory.EnumerateFiles(Directory, "edge_*.onnx").Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal);

    /// <summary>Full path of a fixture file.</summary>
    public static string PathOf(string file)
    {
        var path = Path.Combine(Directory, file);
        if (!File.Exists(path)) throw new FileNotFoundException($"Fixture '{file}' is missing from {Directory}; run scripts/setup.sh.", path);
        return path;
    }

    /// <summary>The manifest entry of a fixture file.</summary>
    public static JsonElement Manifest(string file) =>
        ManifestJson.Value.TryGetProperty(file, out var entry) ? entry : throw new KeyNotFoundException($"No manifest entry for '{file}'.");

    /// <summary>A little-endian float32 file written by the generator (PyTorch inputs and outputs).</summary>
    public static float[] ReadFloats(string file) => ReadFloatsAt(PathOf(file));

    /// <summary>A little-endian float32 file at a full path.</summary>
    public static float[] ReadFloatsAt(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var result = new float[bytes.Length / 4];
        Buffer.BlockCopy(bytes, 0, result, 0, result.Length * 4);
        return result;
    }

    private static string Locate()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable("ACP_FIXTURES_DIR");
        var home = Environment.GetEnvironmentVariable("HOME") ?? "/root";
        var cache = Environment.GetEnvironmentVariable("ACP_CACHE_DIR") ?? Path.Combine(home, ".cache", "acp");
        var candidate = string.IsNullOrEmpty(fromEnvironment) ? Path.Combine(cache, "fixtures") : fromEnvironment;
        if (!File.Exists(Path.Combine(candidate, "manifest.json")))
        {
            throw new InvalidOperationException($"No generated fixtures at {candidate}; run scripts/setup.sh (or set ACP_FIXTURES_DIR).");
        }
        return candidate;
    }
}
