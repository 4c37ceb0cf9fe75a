using System.Text.Json.Nodes;
using Acp.Notebooks.Tests.Support;
using Acp.Tests.Support;

namespace Acp.Notebooks.Tests;

/// <summary>The conversion rules of docs/notebooks.md, one at a time, on small notebooks written here.</summary>
public sealed class FileBasedAppConverterTests : IDisposable
{
    private readonly TemporaryDirectory _temp = new("acp-notebook-converter-");
    private readonly FileBasedAppConverter _converter = new(RepositoryRoot.Path, "0.1.0");

    [Fact]
    public void Acp_packages_become_project_references_and_other_packages_package_directives_at_the_top()
    {
        var app = Convert(
            "#r \"nuget: Acp.Pruning, 0.1.0\"\n#r \"nuget:Acp.Onnx\"",
            "#r \"nuget: Some.Library, 1.2.3\"\nvar x = 1;");
        var lines = Lines(app);
        Assert.Contains($"#:project {RepositoryRoot.Combine("src", "Acp.Pruning", "Acp.Pruning.csproj")}", lines);
        Assert.Contains($"#:project {RepositoryRoot.Combine("src", "Acp.Onnx", "Acp.Onnx.csproj")}", lines);
        Assert.Contains("#:package Some.Library@1.2.3", lines);
        // The SDK reads #: directives only before the first line of code.
        var lastDirective = lines.FindLastIndex(l => l.StartsWith("#:", StringComparison.Ordinal));
        Assert.True(lastDirective < lines.IndexOf("var x = 1;"));
        Assert.All(lines.Take(lastDirective + 1), l => Assert.StartsWith("#:", l));
    }

    [Fact]
    public void A_nuget_source_becomes_an_additional_restore_source()
    {
        var app = Convert("#i \"nuget: /opt/feed\"\n#i \"nuget: https://example.invalid/v3/index.json\"");
        Assert.Contains("#:property RestoreAdditionalProjectSources=/opt/feed;https://example.invalid/v3/index.json", Lines(app));
    }

    [Fact]
    public void Using_directives_move_above_the_cells_and_using_statements_stay()
    {
        var app = Convert("var a = 1;\nusing System.Text;\nusing static System.Math;\nusing Json = System.Text.Json.JsonSerializer;\nusing var stream = new MemoryStream();");
        var lines = Lines(app);
        var firstCode = lines.IndexOf("var a = 1;");
        foreach (var directive in new[] { "using System.Text;", "using static System.Math;", "using Json = System.Text.Json.JsonSerializer;" })
        {
            Assert.InRange(lines.IndexOf(directive), 0, firstCode - 1);
        }
        Assert.True(lines.IndexOf("using var stream = new MemoryStream();") > firstCode);
    }

    [Fact]
    public void Cells_keep_their_order_and_line_numbers_point_at_the_notebook_cell()
    {
        var app = Convert("#!csharp\nvar first = 1;", "var second = first + 1;");
        var lines = Lines(app);
        // Cell 1 is the title; the code cells are 2 and 3, and the dropped magic command leaves its line blank.
        var cell2 = lines.IndexOf("#line 1 \"test.ipynb, cell 2\"");
        var cell3 = lines.IndexOf("#line 1 \"test.ipynb, cell 3\"");
        Assert.True(cell2 >= 0 && cell3 > cell2);
        Assert.Equal("", lines[cell2 + 1]);
        Assert.Equal("var first = 1;", lines[cell2 + 2]);
        Assert.Equal("var second = first + 1;", lines[cell3 + 1]);
        Assert.DoesNotContain(lines, l => l.StartsWith("#!", StringComparison.Ordinal));
    }

    [Fact]
    public void The_app_ends_by_printing_the_completion_marker_and_defines_display()
    {
        var app = Convert("display(1);");
        var lines = Lines(app);
        Assert.True(lines.IndexOf($"Console.WriteLine(\"{FileBasedAppConverter.CompletionMarker}\");") > lines.IndexOf("display(1);"));
        Assert.Contains("static void display(object? value)", lines);
    }

    [Theory]
    [InlineData("#r \"../src/Acp.Onnx/bin/Release/net10.0/Acp.Onnx.dll\"", "not a NuGet reference")]
    [InlineData("#r \"nuget: Acp.Pruning, 0.0.9\"", "this checkout builds 0.1.0")]
    [InlineData("#r \"nuget: Acp.Nothing\"", "there is no")]
    [InlineData("#r \"nuget: Some.Library\"", "without a version")]
    [InlineData("#!time", "magic command")]
    [InlineData("#i \"https://example.invalid\"", "not a NuGet source")]
    public void What_a_file_based_app_cannot_express_is_refused_naming_the_cell(string line, string reason)
    {
        var error = Assert.Throws<NotebookConversionException>(() => Convert("var ok = 1;", line));
        Assert.Contains("test.ipynb, cell 3, line 1", error.Message);
        Assert.Contains(reason, error.Message);
    }

    [Fact]
    public void A_cell_in_another_language_is_refused()
    {
        var path = _temp.Combine("test.ipynb");
        File.WriteAllText(path, """
            {"cells": [{"cell_type": "code", "metadata": {"dotnet_interactive": {"language": "fsharp"}}, "outputs": [], "source": ["let x = 1"]}],
             "metadata": {}, "nbformat": 4, "nbformat_minor": 4}
            """);
        var error = Assert.Throws<NotebookConversionException>(() => _converter.Convert(Notebook.Load(path)));
        Assert.Contains("fsharp", error.Message);
    }

    /// <summary>Converts a notebook with a title cell followed by one C# code cell per element of <paramref name="cells"/>.</summary>
    private string Convert(params string[] cells)
    {
        var cellList = new JsonArray(new JsonObject { ["cell_type"] = "markdown", ["metadata"] = new JsonObject(), ["source"] = new JsonArray("# Test") });
        foreach (var source in cells)
        {
            cellList.Add(new JsonObject
            {
                ["cell_type"] = "code",
                ["execution_count"] = null,
                ["metadata"] = new JsonObject { ["dotnet_interactive"] = new JsonObject { ["language"] = "csharp" } },
                ["outputs"] = new JsonArray(),
                ["source"] = new JsonArray(SourceLines(source).Select(line => (JsonNode?)line).ToArray()),
            });
        }
        var notebook = new JsonObject
        {
            ["cells"] = cellList,
            ["metadata"] = new JsonObject { ["kernelspec"] = new JsonObject { ["name"] = ".net-csharp", ["language"] = "C#" } },
            ["nbformat"] = 4,
            ["nbformat_minor"] = 4,
        };
        var path = _temp.Combine("test.ipynb");
        File.WriteAllText(path, notebook.ToJsonString());
        return _converter.Convert(Notebook.Load(path));
    }

    /// <summary>nbformat's list form of a cell's source: lines that keep their line breaks.</summary>
    private static string[] SourceLines(string source)
    {
        var parts = source.Split('\n');
        return parts.Select((line, i) => i < parts.Length - 1 ? line + "\n" : line).ToArray();
    }

    private static List<string> Lines(string text) => text.ReplaceLineEndings("\n").Split('\n').ToList();

    public void Dispose() => _temp.Dispose();
}
