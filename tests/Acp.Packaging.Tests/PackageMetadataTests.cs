using System.Xml.Linq;
using Acp.Packaging.Tests.Support;
using Acp.Tests.Support;

namespace Acp.Packaging.Tests;

/// <summary>What <c>dotnet pack Acp.sln</c> produces, read back from the .nupkg files as NuGet would.</summary>
[Collection(PackedSolutionCollection.Name)]
public sealed class PackageMetadataTests(PackedSolution packed)
{
    /// <summary>The library packages, each with the one Acp package it builds on (architecture.md: Onnx ← Engine ← Pruning ← MLNet).</summary>
    private static readonly Dictionary<string, string?> LibraryLayering = new()
    {
        ["Acp.Onnx"] = null,
        ["Acp.Engine"] = "Acp.Onnx",
        ["Acp.Pruning"] = "Acp.Engine",
        ["Acp.MLNet"] = "Acp.Pruning",
        ["Acp.TorchSharp"] = "Acp.Engine", // the TorchSharp backend: implements the engine layer's compute-backend seam
    };

    public static TheoryData<string> AllPackageIds => new([.. LibraryLayering.Keys, PackedSolution.ToolPackageId]);

    public static TheoryData<string> LibraryIds => new(LibraryLayering.Keys);

    [Fact]
    public void The_solution_packs_the_four_libraries_and_the_tool_and_no_test_or_benchmark_project()
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
    public void Each_library_depends_on_the_acp_package_below_it_and_on_no_other(string id)
    {
        var package = packed.Package(id);
        var acpDependencies = package.Dependencies.Where(d => d.Id.StartsWith("Acp.", StringComparison.Ordinal)).ToList();
        if (LibraryLayering[id] is { } below)
        {
            var dependency = Assert.Single(acpDependencies);
            Assert.Equal(below, dependency.Id);
            Assert.Equal(PackedSolution.Version, dependency.Version);
            Assert.Equal("net10.0", dependency.TargetFramework);
        }
        else
        {
            Assert.Empty(acpDependencies);
        }
        // Grpc.Tools only compiles onnx.proto; consumers must not inherit it.
        Assert.DoesNotContain(package.Dependencies, d => d.Id == "Grpc.Tools");
    }

    [Fact]
    public void The_onnx_package_depends_on_protobuf_at_run_time()
    {
        var protobuf = Assert.Single(packed.Package("Acp.Onnx").Dependencies, d => d.Id == "Google.Protobuf");
        var pinned = XDocument.Load(RepositoryRoot.Combine("Directory.Packages.props")).Descendants("PackageVersion")
            .Single(e => (string?)e.Attribute("Include") == "Google.Protobuf");
        Assert.Equal((string?)pinned.Attribute("Version"), protobuf.Version);
    }

    [Theory]
    [MemberData(nameof(LibraryIds))]
    public void Each_library_package_holds_its_own_assembly_and_no_other(string id)
    {
        var package = packed.Package(id);
        var assemblies = package.Files.Where(f => f.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)).ToList();
        Assert.Equal([$"lib/net10.0/{id}.dll"], assemblies);
    }

    [Fact]
    public void No_package_bundles_the_onnx_runtime_native_library_and_the_onnx_package_says_where_it_comes_from()
    {
        foreach (var package in packed.Packages)
        {
            Assert.DoesNotContain(package.Files, f => f.Contains("onnxruntime", StringComparison.OrdinalIgnoreCase)
                || f.EndsWith(".so", StringComparison.Ordinal) || f.Contains(".so.", StringComparison.Ordinal) || f.StartsWith("runtimes/", StringComparison.Ordinal));
        }
        var description = packed.Package("Acp.Onnx").Description;
        Assert.Contains("ACP_ONNXRUNTIME_PATH", description);
        Assert.Contains("libonnxruntime.so.1", description);
        Assert.Contains("scripts/setup.sh", description);
    }

    [Fact]
    public void The_cli_is_a_dotnet_tool_named_acp_that_bundles_the_libraries()
    {
        var tool = packed.Package(PackedSolution.ToolPackageId);
        Assert.Equal(["DotnetTool"], tool.PackageTypes);
        Assert.Empty(tool.Dependencies);

        // Loaded from bytes: the file starts with a byte order mark, which XDocument.Parse rejects.
        var settings = XDocument.Load(new MemoryStream(tool.Contents["tools/net10.0/any/DotnetToolSettings.xml"]));
        var command = Assert.Single(settings.Descendants("Command"));
        Assert.Equal("acp", (string?)command.Attribute("Name"));
        Assert.Equal("acp.dll", (string?)command.Attribute("EntryPoint"));

        foreach (var assembly in new[] { "acp.dll", "Acp.Onnx.dll", "Acp.Engine.dll", "Acp.Pruning.dll", "Acp.MLNet.dll", "Google.Protobuf.dll" })
        {
            Assert.Contains($"tools/net10.0/any/{assembly}", tool.Files);
        }
    }

    [Fact]
    public void Every_package_has_a_symbol_package_beside_it()
    {
        var expected = packed.Packages.Select(p => $"{p.Id}.{p.Version}.snupkg").Order(StringComparer.Ordinal);
        Assert.Equal(expected, packed.SymbolPackages);
    }
}
