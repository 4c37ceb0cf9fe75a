using System.Xml.Linq;
using Acp.Packaging.Tests.Support;
using Acp.Tests.Support;

namespace Acp.Packaging.Tests;

/// <summary>What <c>dotnet pack Acp.sln</c> produces, read back from the .nupkg files as NuGet would.</summary>
[Collection(PackedSolutionCollection.Name)]
public sealed class PackageMetadataTests(PackedSolution packed)
{
    /// <summary>The library packages, each with the Acp packages it builds on directly (architecture.md's diagram).</summary>
    private static readonly Dictionary<string, string[]> LibraryLayering = new()
    {
        ["Acp.Onnx"] = [],
        ["Acp.Data"] = ["Acp.Onnx"], // only for RegularFile, the reader of untrusted files
        ["Acp.Engine"] = ["Acp.Data", "Acp.Onnx"],
        ["Acp.Pruning"] = ["Acp.Engine"],
        ["Acp.Reporting"] = ["Acp.Pruning"],
        ["Acp.MLNet"] = ["Acp.Pruning"],
        ["Acp.TorchSharp"] = ["Acp.Engine"], // the TorchSharp backend: implements the engine layer's compute-backend seam
    };

    public static TheoryData<string> AllPackageIds => new([.. LibraryLayering.Keys, PackedSolution.ToolPackageId]);

    public static TheoryData<string> LibraryIds => new(LibraryLayering.Keys);

    [Fact]
    public void The_solution_packs_the_libraries_and_the_tool_and_no_test_or_benchmark_project()
    {
        var expected = LibraryLayering.Keys.Append(PackedSolution.ToolPackageId).Order(StringComparer.Ordinal);
        Assert.Equal(expected, packed.Packages.Select(p => p.Id).Order(StringComparer.Ordinal));
        Assert.All(packed.Packages, p => Assert.Equal($"{p.Id}.{PackedSolution.Version}.nupkg", Path.GetFileName(p.FilePath)));
    }

    [Theory]
    [MemberData(nameof(AllPackageIds))]
    public void Every_package_carries_the_shared_metadata_and_the_repository_readme(string id)
    {
        var package = packed.Package(id);
        Assert.Equal(id, package.Id);
        Assert.Equal(PackedSolution.Version, package.Version);
        Assert.Equal("Acp contributors", package.Authors);
        Assert.Equal(("expression", "MIT"), package.License);
        Assert.Contains("onnx", package.Tags);
        Assert.Contains("pruning", package.Tags);
        Assert.False(string.IsNullOrWhiteSpace(package.Description), $"{id} has no description.");

        Assert.Equal("README.md", package.Readme);
        Assert.True(package.Contents.TryGetValue("README.md", out var readme), $"{id} names README.md as its readme but does not contain it.");
        Assert.Equal(File.ReadAllBytes(RepositoryRoot.Combine("README.md")), readme);
    }

    [Theory]
    [MemberData(nameof(LibraryIds))]
    public void Each_library_depends_on_the_acp_packages_below_it_and_on_no_other(string id)
    {
        var package = packed.Package(id);
        var acpDependencies = package.Dependencies.Where(d => d.Id.StartsWith("Acp.", StringComparison.Ordinal)).ToList();
        Assert.Equal(LibraryLayering[id], acpDependencies.Select(d => d.Id).Order(StringComparer.Ordinal));
        Assert.All(acpDependencies, dependency =>
        {
            Assert.Equal(PackedSolution.Version, dependency.Version);
            Assert.Equal("net10.0", dependency.TargetFramework);
        });
        // Grpc.Tools only compiles onnx.proto; consumers must not inherit it.
        Assert.DoesNotContain(package.Dependencies, d => d.Id == "Grpc.Tools");
    }

    [Fact]
    public void The_onnx_package_depends_on_protobuf_at_run_time()
    {
        var protobuf = Assert.Single(packed.Package("Acp.Onnx").Dependencies, d => d.Id == "Google.Protobuf");
        Assert.Equal(PinnedVersion("Google.Protobuf"), protobuf.Version);
    }

    private static string? PinnedVersion(string id) =>
        (string?)XDocument.Load(RepositoryRoot.Combine("Directory.Packages.props")).Descendants("PackageVersion")
            .Single(e => (string?)e.Attribute("Include") == id).Attribute("Version");

    [Theory]
    [MemberData(nameof(LibraryIds))]
    public void Each_library_package_holds_its_own_assembly_and_no_other(string id)
    {
        var package = packed.Package(id);
        var assemblies = package.Files.Where(f => f.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)).ToList();
        Assert.Equal([$"lib/net10.0/{id}.dll"], assemblies);
    }

    [Fact]
    public void Libraries_reference_onnx_runtime_managed_only_and_bundle_no_native_library()
    {
        foreach (var package in packed.Packages.Where(p => p.Id != PackedSolution.ToolPackageId))
        {
            Assert.DoesNotContain(package.Files, f => f.Contains("onnxruntime", StringComparison.OrdinalIgnoreCase)
                || f.EndsWith(".so", StringComparison.Ordinal) || f.Contains(".so.", StringComparison.Ordinal) || f.StartsWith("runtimes/", StringComparison.Ordinal));
            // A library must not choose the native build (CPU or GPU) for the application.
            Assert.DoesNotContain(package.Dependencies, d => d.Id is "Microsoft.ML.OnnxRuntime" or "Microsoft.ML.OnnxRuntime.Gpu.Linux");
        }
        var managed = Assert.Single(packed.Package("Acp.Onnx").Dependencies, d => d.Id == "Microsoft.ML.OnnxRuntime.Managed");
        Assert.Equal(PinnedVersion("Microsoft.ML.OnnxRuntime.Managed"), managed.Version);
        var description = packed.Package("Acp.Onnx").Description;
        Assert.Contains("Microsoft.ML.OnnxRuntime (CPU)", description);
        Assert.Contains("Microsoft.ML.OnnxRuntime.Gpu.Linux", description);
        Assert.DoesNotContain("ACP_ONNXRUNTIME_PATH", description);
    }

    [Fact]
    public void The_cli_is_a_dotnet_tool_named_acp_that_bundles_the_libraries()
    {
        var tool = packed.Package(PackedSolution.ToolPackageId);
        Assert.Equal(["DotnetTool"], tool.PackageTypes);
        Assert.Empty(tool.Dependencies);

        // Loaded from bytes: the file starts with a byte order mark, which XDocument.Parse rejects.
        // The tool carries ONNX Runtime's native library for one platform (the build machine's), not all of them.
        var folder = Assert.Single(tool.Files, f => f.EndsWith("/DotnetToolSettings.xml", StringComparison.Ordinal))[..^"DotnetToolSettings.xml".Length];
        Assert.Matches("^tools/net10.0/(linux|osx|win)-(x64|arm64)/$", folder);
        Assert.Single(tool.Files, f => Path.GetFileName(f) is "libonnxruntime.so" or "libonnxruntime.dylib" or "onnxruntime.dll");
        Assert.DoesNotContain(tool.Files, f => f.Contains("/runtimes/", StringComparison.Ordinal));
        var settings = XDocument.Load(new MemoryStream(tool.Contents[folder + "DotnetToolSettings.xml"]));
        var command = Assert.Single(settings.Descendants("Command"));
        Assert.Equal("acp", (string?)command.Attribute("Name"));
        // A RID-specific tool starts through its native apphost.
        Assert.Equal("acp", (string?)command.Attribute("EntryPoint"));
        Assert.Equal("executable", (string?)command.Attribute("Runner"));

        foreach (var assembly in new[] { "acp.dll", "Acp.Onnx.dll", "Acp.Data.dll", "Acp.Engine.dll", "Acp.Pruning.dll", "Acp.Reporting.dll", "Google.Protobuf.dll", "Microsoft.ML.OnnxRuntime.dll" })
        {
            Assert.Contains(folder + assembly, tool.Files);
        }
        // The command line and the ML.NET estimator are two front ends of the same library: the tool carries no ML.NET.
        Assert.DoesNotContain(tool.Files, f => Path.GetFileName(f) is "Acp.MLNet.dll" or "Microsoft.ML.dll" or "Microsoft.ML.Data.dll");
    }

    [Fact]
    public void Every_package_has_a_symbol_package_beside_it()
    {
        var expected = packed.Packages.Select(p => $"{p.Id}.{p.Version}.snupkg").Order(StringComparer.Ordinal);
        Assert.Equal(expected, packed.SymbolPackages);
    }
}
