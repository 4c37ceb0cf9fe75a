using Acp.Notebooks.Tests.Support;
using Acp.Tests.Support;

namespace Acp.Notebooks.Tests;

/// <summary>Every notebook is a .NET Interactive C# notebook, saved clean, that reaches Acp as packages the tests can substitute.</summary>
public sealed class NotebookFormatTests
{
    public static TheoryData<string> Notebooks => NotebookFiles.All;

    [Theory]
    [MemberData(nameof(Notebooks))]
    public void The_notebook_opens_with_the_dotnet_interactive_csharp_kernel(string fileName)
    {
        var notebook = NotebookFiles.Load(fileName);
        Assert.Equal(4, notebook.FormatVersion);
        Assert.Equal(".net-csharp", notebook.KernelName);
        Assert.Equal("C#", notebook.KernelLanguage);
        Assert.All(notebook.CodeCells, cell => Assert.True(cell.Language == "csharp", $"{fileName}, cell {cell.Number} is not marked as a C# cell (metadata.dotnet_interactive.language)."));
    }

    [Theory]
    [MemberData(nameof(Notebooks))]
    public void The_notebook_starts_with_a_title_explains_its_code_and_is_saved_without_outputs(string fileName)
    {
        var notebook = NotebookFiles.Load(fileName);
        var first = notebook.Cells[0];
        Assert.True(first.Kind == "markdown" && first.Source.StartsWith("# ", StringComparison.Ordinal), $"{fileName} must open with a markdown title cell.");
        Assert.Contains(notebook.Cells, cell => cell.Kind == "markdown" && cell.Number > 1);
        // Saved outputs would go stale with every change to Acp and bloat diffs; CI runs the notebooks instead.
        Assert.All(notebook.Cells, cell => Assert.False(cell.HasOutputs, $"{fileName}, cell {cell.Number} was saved with outputs; clear them before committing."));
    }

    [Theory]
    [MemberData(nameof(Notebooks))]
    public void The_notebook_references_acp_as_packages_from_a_folder_at_the_checkout_version(string fileName)
    {
        var notebook = NotebookFiles.Load(fileName);
        var first = notebook.CodeCells.First();
        // The tests put the packed checkout where the placeholder stands (docs/notebooks.md); any other source would
        // let the kernel run some other build of Acp.
        Assert.Contains($"#i \"nuget: {LocalPackages.PlaceholderSource}\"", first.Source);
        var references = notebook.CodeCells.SelectMany(cell => LocalPackages.AcpReference().Matches(cell.Source)).ToList();
        Assert.True(references.Count > 0, $"{fileName} references no Acp package with a version (#r \"nuget: Acp.MLNet, {LocalPackages.CheckoutVersion}\").");
        Assert.All(references, r => Assert.Equal(LocalPackages.CheckoutVersion, r.Groups["version"].Value));
        Assert.All(notebook.CodeCells, cell => Assert.DoesNotMatch(@"#r\s+""nuget:\s*Acp\.[A-Za-z.]+\s*""", cell.Source));
    }
}
