using System.Text.Json;

namespace Acp.Notebooks.Tests.Support;

/// <summary>One cell of a notebook.</summary>
/// <param name="Number">Its position, from 1, as a person counts cells in the editor.</param>
/// <param name="Kind">"code", "markdown" or "raw".</param>
/// <param name="Language">For code cells, the .NET Interactive kernel that runs it (e.g. "csharp"); null when the cell does not say.</param>
/// <param name="Source">Its text.</param>
/// <param name="HasOutputs">Whether outputs or an execution count were saved with it.</param>
public sealed record NotebookCell(int Number, string Kind, string? Language, string Source, bool HasOutputs);

/// <summary>
/// A Jupyter notebook (.ipynb, nbformat 4) as .NET Interactive writes it: the cells in order, and the metadata that
/// picks the kernel.
/// </summary>
public sealed class Notebook
{
    private Notebook(string path, JsonElement root, IReadOnlyList<NotebookCell> cells)
    {
        FilePath = path;
        Root = root;
        Cells = cells;
    }

    /// <summary>Full path of the .ipynb file.</summary>
    public string FilePath { get; }

    /// <summary>The file name without .ipynb.</summary>
    public string Name => Path.GetFileNameWithoutExtension(FilePath);

    /// <summary>The whole document.</summary>
    public JsonElement Root { get; }

    /// <summary>Every cell in order.</summary>
    public IReadOnlyList<NotebookCell> Cells { get; }

    /// <summary>The code cells in order.</summary>
    public IEnumerable<NotebookCell> CodeCells => Cells.Where(c => c.Kind == "code");

    /// <summary>metadata.kernelspec.name, e.g. ".net-csharp".</summary>
    public string? KernelName => Property(Root, "metadata", "kernelspec", "name");

    /// <summary>metadata.kernelspec.language, e.g. "C#".</summary>
    public string? KernelLanguage => Property(Root, "metadata", "kernelspec", "language");

    /// <summary>nbformat (the major version).</summary>
    public int FormatVersion => Root.TryGetProperty("nbformat", out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt32() : 0;

    /// <summary>Reads the notebook at <paramref name="path"/>.</summary>
    /// <exception cref="InvalidDataException">It is not JSON, or has no cell list.</exception>
    public static Notebook Load(string path)
    {
        JsonElement root;
        try
        {
            root = JsonDocument.Parse(File.ReadAllText(path)).RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} is not valid JSON: {e.Message}", e);
        }
        if (!root.TryGetProperty("cells", out var cells) || cells.ValueKind != JsonValueKind.Array)
        {
            throw new InvalidDataException($"{path} has no \"cells\" array; it is not an nbformat 4 notebook.");
        }
        var list = new List<NotebookCell>();
        foreach (var cell in cells.EnumerateArray())
        {
            var kind = cell.TryGetProperty("cell_type", out var type) ? type.GetString() ?? "" : "";
            var language = Property(cell, "metadata", "dotnet_interactive", "language") ?? Property(cell, "metadata", "polyglot_notebook", "kernelName");
            var hasOutputs = (cell.TryGetProperty("outputs", out var outputs) && outputs.ValueKind == JsonValueKind.Array && outputs.GetArrayLength() > 0)
                || (cell.TryGetProperty("execution_count", out var count) && count.ValueKind == JsonValueKind.Number);
            list.Add(new NotebookCell(list.Count + 1, kind, language, SourceOf(cell), hasOutputs));
        }
        return new Notebook(path, root, list);
    }

    /// <summary>nbformat stores source either as one string or as a list of lines that keep their line breaks.</summary>
    private static string SourceOf(JsonElement cell)
    {
        if (!cell.TryGetProperty("source", out var source)) return "";
        return source.ValueKind switch
        {
            JsonValueKind.String => source.GetString() ?? "",
            JsonValueKind.Array => string.Concat(source.EnumerateArray().Select(line => line.GetString())),
            _ => "",
        };
    }

    private static string? Property(JsonElement element, params string[] path)
    {
        foreach (var name in path)
        {
            if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(name, out element)) return null;
        }
        return element.ValueKind == JsonValueKind.String ? element.GetString() : null;
    }
}
