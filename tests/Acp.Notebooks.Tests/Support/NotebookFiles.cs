using Acp.Tests.Support;

namespace Acp.Notebooks.Tests.Support;

/// <summary>The notebooks in the checkout's notebooks/ folder: dropping an .ipynb there adds it to every test.</summary>
public static class NotebookFiles
{
    /// <summary>Full path of the notebooks folder.</summary>
    public static string Directory => RepositoryRoot.Combine("notebooks");

    /// <summary>xunit member data: one row per notebook file name.</summary>
    public static TheoryData<string> All =>
        new(System.IO.Directory.EnumerateFiles(Directory, "*.ipynb").Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal));

    /// <summary>Loads the notebook <paramref name="fileName"/>.</summary>
    public static Notebook Load(string fileName) => Notebook.Load(Path.Combine(Directory, fileName));
}
