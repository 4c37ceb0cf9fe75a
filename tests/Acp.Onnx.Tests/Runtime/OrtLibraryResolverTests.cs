using Acp.Onnx.Runtime;

namespace Acp.Onnx.Tests.Runtime;

public sealed class OrtLibraryResolverTests : IDisposable
{
    private readonly DirectoryInfo temp = Directory.CreateTempSubdirectory("acp-ort-resolver-");

    public void Dispose() => temp.Delete(recursive: true);

    [Fact]
    public void An_explicit_path_is_the_only_candidate()
    {
        var candidates = OrtLibraryResolver.Candidates("/nowhere/libonnxruntime.so.1", temp.FullName);

        var only = Assert.Single(candidates);
        Assert.Equal("/nowhere/libonnxruntime.so.1", only.Target);
        Assert.True(only.IsFile);
        Assert.Contains(OrtLibraryResolver.PathVariable, only.Origin);
    }

    [Fact]
    public void Without_an_explicit_path_the_setup_folder_is_searched_upwards_then_the_system_loader()
    {
        var deep = Directory.CreateDirectory(Path.Combine(temp.FullName, "a", "b"));

        var candidates = OrtLibraryResolver.Candidates(null, deep.FullName);

        Assert.Equal(Path.Combine(deep.FullName, ".deps", "onnxruntime", "libonnxruntime.so.1"), candidates[0].Target);
        Assert.Equal(Path.Combine(temp.FullName, "a", ".deps", "onnxruntime", "libonnxruntime.so.1"), candidates[1].Target);
        Assert.Equal(Path.Combine(temp.FullName, ".deps", "onnxruntime", "libonnxruntime.so.1"), candidates[2].Target);
        Assert.Equal(OrtLibraryResolver.SystemNames, candidates.Where(c => !c.IsFile).Select(c => c.Target));
        Assert.All(candidates.Take(candidates.Count - OrtLibraryResolver.SystemNames.Length), c => Assert.True(c.IsFile));
    }

    [Fact]
    public void When_nothing_loads_the_error_lists_every_place_and_points_to_setup()
    {
        var missing = Path.Combine(temp.FullName, "missing", "libonnxruntime.so.1");
        var notALibrary = Path.Combine(temp.FullName, "libonnxruntime.so.1");
        File.WriteAllText(notALibrary, "this is not an ELF file");
        OrtLibraryResolver.Candidate[] candidates =
        [
            new(missing, true, "test file"),
            new(notALibrary, true, "test junk"),
            new("acp-no-such-onnxruntime-library", false, "test system name"),
        ];

        var e = Assert.Throws<OrtException>(() => OrtLibraryResolver.Load(candidates));

        Assert.Equal(OrtErrorCode.NoSuchFile, e.Code);
        Assert.Contains($"{missing} (test file): no such file", e.Message);
        Assert.Contains($"{notALibrary} (test junk): ", e.Message);
        Assert.DoesNotContain($"{notALibrary} (test junk): no such file", e.Message);
        Assert.Contains("acp-no-such-onnxruntime-library (test system name)", e.Message);
        Assert.Contains("scripts/setup.sh", e.Message);
        Assert.Contains(OrtLibraryResolver.PathVariable, e.Message);
    }

    [Fact]
    public void A_setup_folder_above_the_base_directory_is_found()
    {
        var real = OnnxRuntime.LibraryPath; // loads the library the normal way first
        Assert.True(File.Exists(real), $"expected the loaded library to be a file, got {real}");
        var setup = Directory.CreateDirectory(Path.Combine(temp.FullName, ".deps", "onnxruntime"));
        var link = Path.Combine(setup.FullName, "libonnxruntime.so.1");
        File.CreateSymbolicLink(link, real);
        var deep = Directory.CreateDirectory(Path.Combine(temp.FullName, "bin", "Debug"));

        var (handle, loadedFrom) = OrtLibraryResolver.Load(OrtLibraryResolver.Candidates(null, deep.FullName));

        Assert.NotEqual(IntPtr.Zero, handle);
        Assert.Equal(link, loadedFrom);
    }
}
