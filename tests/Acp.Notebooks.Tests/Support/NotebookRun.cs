using System.Text;

namespace Acp.Notebooks.Tests.Support;

/// <summary>One thing a cell showed: a displayed or returned value in one or more MIME types, or printed text.</summary>
/// <param name="Kind">The kernel event's name, e.g. DisplayedValueProduced, ReturnValueProduced, StandardOutputValueProduced.</param>
/// <param name="Values">The value per MIME type (text/html, text/plain, text/csv...).</param>
public sealed record CellOutput(string Kind, IReadOnlyDictionary<string, string> Values)
{
    /// <summary>The value in <paramref name="mimeType"/>, or null when the output has no such form.</summary>
    public string? In(string mimeType) => Values.TryGetValue(mimeType, out var value) ? value : null;
}

/// <summary>A code cell as the kernel ran it.</summary>
/// <param name="Number">Its position among all cells, from 1, as a person counts cells in the editor.</param>
/// <param name="Source">The code submitted (after the run's substitutions).</param>
/// <param name="Outputs">What it showed, in order.</param>
/// <param name="Error">The kernel's error message when the cell failed (compile error or exception), else null.</param>
/// <param name="Duration">Wall time of the submission.</param>
public sealed record CellRun(int Number, string Source, IReadOnlyList<CellOutput> Outputs, string? Error, TimeSpan Duration);

/// <summary>A notebook run through the kernel: its code cells up to the end or the first failure.</summary>
/// <param name="FileName">The notebook's file name.</param>
/// <param name="Cells">The cells that ran, in order; the last one is the failed one when <see cref="Failed"/> is set.</param>
/// <param name="CodeCellCount">How many code cells the notebook has.</param>
public sealed record NotebookRun(string FileName, IReadOnlyList<CellRun> Cells, int CodeCellCount)
{
    /// <summary>The cell that failed, or null.</summary>
    public CellRun? Failed => Cells.FirstOrDefault(c => c.Error is not null);

    /// <summary>Every cell ran and none failed.</summary>
    public bool Succeeded => Failed is null && Cells.Count == CodeCellCount;

    /// <summary>Every output of every cell that has a form in <paramref name="mimeType"/>.</summary>
    public IEnumerable<string> Values(string mimeType) =>
        Cells.SelectMany(c => c.Outputs).Select(o => o.In(mimeType)).OfType<string>();

    /// <summary>The cells, their code and their outputs (text forms, shortened), for assertion messages.</summary>
    public string Describe()
    {
        var text = new StringBuilder();
        text.AppendLine($"{FileName}: {Cells.Count} of {CodeCellCount} code cells ran{(Failed is { } f ? $"; cell {f.Number} failed" : "")}.");
        foreach (var cell in Cells)
        {
            text.AppendLine($"--- cell {cell.Number} ({cell.Duration.TotalSeconds:0.0} s)");
            text.AppendLine(cell.Source.TrimEnd());
            foreach (var output in cell.Outputs)
            {
                var shown = output.In("text/plain") ?? output.In("text/csv") ?? output.In("text/html") ?? "";
                text.AppendLine($">>> {output.Kind}: {Shorten(shown.TrimEnd(), 2000)}");
            }
            if (cell.Error is { } error) text.AppendLine($"!!! {error}");
        }
        return text.ToString();
    }

    private static string Shorten(string text, int length) => text.Length <= length ? text : text[..length] + " [...]";
}
