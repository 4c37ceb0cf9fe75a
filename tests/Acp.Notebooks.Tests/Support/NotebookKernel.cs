using System.Diagnostics;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Commands;
using Microsoft.DotNet.Interactive.CSharp;
using Microsoft.DotNet.Interactive.Documents;
using Microsoft.DotNet.Interactive.Events;
using Microsoft.DotNet.Interactive.PackageManagement;
using InteractiveNotebook = Microsoft.DotNet.Interactive.Documents.Jupyter.Notebook;

namespace Acp.Notebooks.Tests.Support;

/// <summary>
/// Runs a .ipynb through .NET Interactive's C# kernel in this process, as Polyglot Notebooks and Jupyter do: the file is
/// read with Microsoft.DotNet.Interactive.Documents, and each C# cell is submitted in order to a
/// <see cref="CSharpKernel"/> with the kernel helpers (<c>display</c>, <c>HTML</c>) and the <c>#r "nuget:"</c> and
/// <c>#i "nuget:"</c> directives. The run stops at the first cell that reports an error (a compile error or an
/// exception). Only C# cells are supported: another language fails the run, naming the cell.
/// </summary>
public static class NotebookKernel
{
    /// <summary>The kernels a notebook may name; only C# runs here.</summary>
    private static KernelInfoCollection KernelInfos()
    {
        var infos = new KernelInfoCollection { new Microsoft.DotNet.Interactive.Documents.KernelInfo("csharp", "C#", ["c#", "C#", "cs"]) };
        infos.DefaultKernelName = "csharp";
        return infos;
    }

    /// <summary>Runs the notebook at <paramref name="path"/>.</summary>
    /// <param name="path">The .ipynb file.</param>
    /// <param name="rewrite">Applied to each code cell's source before it is submitted (the local package source and version).</param>
    /// <param name="log">Told which cell runs, and how long each took.</param>
    /// <param name="cellTimeout">A cell that runs longer fails the run (the kernel is abandoned).</param>
    public static async Task<NotebookRun> RunAsync(string path, Func<string, string> rewrite, Action<string> log, TimeSpan cellTimeout)
    {
        var fileName = Path.GetFileName(path);
        InteractiveDocument document;
        await using (var stream = File.OpenRead(path))
        {
            document = InteractiveNotebook.Read(stream, KernelInfos());
        }
        var elements = document.Elements;
        var codeCells = elements.Select((element, index) => (element, number: index + 1))
            .Where(cell => cell.element.KernelName != "markdown")
            .ToList();

        using var kernel = CreateKernel();
        var runs = new List<CellRun>();
        foreach (var (element, number) in codeCells)
        {
            var source = rewrite(element.Contents);
            if (element.KernelName is not ("csharp" or "c#" or "C#"))
            {
                runs.Add(new CellRun(number, source, [], $"a {element.KernelName} cell; only C# cells run here", TimeSpan.Zero));
                break;
            }
            log($"{fileName}, cell {number}: {FirstLine(source)}");
            var watch = Stopwatch.StartNew();
            var submission = kernel.SendAsync(new SubmitCode(source));
            KernelCommandResult result;
            try
            {
                result = await submission.WaitAsync(cellTimeout);
            }
            catch (TimeoutException)
            {
                runs.Add(new CellRun(number, source, [], $"did not finish within {cellTimeout.TotalMinutes:0} minutes", watch.Elapsed));
                log($"{fileName}, cell {number}: timed out after {watch.Elapsed.TotalSeconds:0} s");
                break;
            }
            var run = new CellRun(number, source, Outputs(result.Events), Error(result.Events), watch.Elapsed);
            runs.Add(run);
            log($"{fileName}, cell {number}: {(run.Error is null ? "ok" : "FAILED")} in {watch.Elapsed.TotalSeconds:0.0} s");
            if (run.Error is not null) break;
        }
        return new NotebookRun(fileName, runs, codeCells.Count);
    }

    /// <summary>A C# kernel composed as the .NET Interactive tool composes it for notebooks, less what needs a front end.</summary>
    private static CSharpKernel CreateKernel() =>
        new CSharpKernel()
            .UseKernelHelpers()
            .UseNugetDirective((kernel, references) =>
            {
                kernel.AddAssemblyReferences(references.SelectMany(r => r.AssemblyPaths));
                return Task.CompletedTask;
            }, false);

    private static List<CellOutput> Outputs(IEnumerable<KernelEvent> events)
    {
        var outputs = new List<CellOutput>();
        foreach (var e in events)
        {
            // DisplayedValueUpdated only repeats the package directives' progress display.
            if (e is DisplayEvent display and not DisplayedValueUpdated)
            {
                outputs.Add(new CellOutput(e.GetType().Name, display.FormattedValues
                    .GroupBy(v => v.MimeType)
                    .ToDictionary(g => g.Key, g => g.First().Value)));
            }
        }
        return outputs;
    }

    private static string? Error(IEnumerable<KernelEvent> events) =>
        events.OfType<CommandFailed>().Select(f => f.Message).FirstOrDefault();

    private static string FirstLine(string source)
    {
        var line = source.ReplaceLineEndings("\n").Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0) ?? "";
        return line.Length <= 80 ? line : line[..80] + "...";
    }
}
