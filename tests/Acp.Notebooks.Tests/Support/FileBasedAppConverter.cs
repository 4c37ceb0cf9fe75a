using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace Acp.Notebooks.Tests.Support;

/// <summary>
/// Turns a .NET Interactive C# notebook into a .NET 10 file-based app (one .cs file run with <c>dotnet run</c>), so CI
/// can run notebooks without a Jupyter kernel. The rules, which docs/notebooks.md states for notebook authors:
/// <list type="bullet">
/// <item><c>#r "nuget: Acp.X[, version]"</c> becomes <c>#:project</c> of src/Acp.X in this checkout (the version, when
/// given, must be the checkout's); <c>#r "nuget: Other, version"</c> becomes <c>#:package Other@version</c>;
/// <c>#i "nuget: source"</c> becomes an extra restore source. Other <c>#r</c> forms are refused.</item>
/// <item><c>#!csharp</c> is dropped; any other magic command is refused.</item>
/// <item><c>using</c> directives move to the top; code cells follow one another as top-level statements, each under a
/// <c>#line</c> that points compiler errors at the notebook cell.</item>
/// <item><c>display(x)</c> calls a helper that prints <c>x</c> (each element on its own line for sequences).</item>
/// <item>After the last cell the app prints <see cref="CompletionMarker"/>, so a run that stopped early is told apart.</item>
/// </list>
/// </summary>
public sealed partial class FileBasedAppConverter
{
    /// <summary>The line the app prints after every cell has run.</summary>
    public const string CompletionMarker = "acp-notebook: all cells ran";

    private readonly string _repositoryRoot;
    private readonly string _acpVersion;

    /// <summary>Converts against the checkout at <paramref name="repositoryRoot"/>, whose packages carry <paramref name="acpVersion"/>.</summary>
    public FileBasedAppConverter(string repositoryRoot, string acpVersion)
    {
        _repositoryRoot = repositoryRoot;
        _acpVersion = acpVersion;
    }

    /// <summary>A converter for the checkout at <paramref name="repositoryRoot"/>, reading the version from its Directory.Build.props.</summary>
    public static FileBasedAppConverter ForRepository(string repositoryRoot)
    {
        var props = Path.Combine(repositoryRoot, "Directory.Build.props");
        var version = XDocument.Load(props).Descendants("Version").Select(v => v.Value.Trim()).FirstOrDefault(v => v.Length > 0)
            ?? throw new InvalidOperationException($"{props} sets no <Version>.");
        return new FileBasedAppConverter(repositoryRoot, version);
    }

    /// <summary>The app's source.</summary>
    /// <exception cref="NotebookConversionException">A cell is not C#, or uses a directive or magic command the app cannot express.</exception>
    public string Convert(Notebook notebook)
    {
        ArgumentNullException.ThrowIfNull(notebook);
        var directives = new List<string>
        {
            // A file-based app defaults to native AOT, whose runtime pack is not needed to run and may not be on the feed.
            "#:property PublishAot=false",
            // Numbers print the same on every machine, whatever its culture.
            "#:property InvariantGlobalization=true",
            // Native packages (ONNX Runtime) copy only this machine's libraries, not every platform's.
            "#:property RuntimeIdentifier=$(NETCoreSdkRuntimeIdentifier)",
        };
        var sources = new List<string>();
        var usings = new List<string>();
        var body = new StringBuilder();
        var fileName = Path.GetFileName(notebook.FilePath);

        foreach (var cell in notebook.CodeCells)
        {
            if (cell.Language is { } language && language != "csharp")
            {
                throw new NotebookConversionException($"{fileName}, cell {cell.Number}: a {language} cell; only C# cells can be converted.");
            }
            var lines = cell.Source.ReplaceLineEndings("\n").Split('\n');
            body.Append("#line 1 \"").Append(fileName).Append(", cell ").Append(cell.Number).AppendLine("\"");
            for (var i = 0; i < lines.Length; i++)
            {
                var where = $"{fileName}, cell {cell.Number}, line {i + 1}";
                // Every source line keeps its place (blank when moved), so #line numbers stay true.
                body.AppendLine(Translate(lines[i], where, directives, sources, usings));
            }
        }

        if (sources.Count > 0) directives.Add($"#:property RestoreAdditionalProjectSources={string.Join(';', sources)}");
        var app = new StringBuilder();
        foreach (var directive in directives.Distinct()) app.AppendLine(directive);
        app.AppendLine($"// Generated from {fileName} by Acp.Notebooks.Tests (docs/notebooks.md); edit the notebook, not this file.");
        foreach (var directive in usings.Distinct()) app.AppendLine(directive);
        app.Append(body);
        app.AppendLine("#line default");
        app.AppendLine($"Console.WriteLine(\"{CompletionMarker}\");");
        app.Append(DisplayHelper);
        return app.ToString();
    }

    /// <summary>The line to write in the cell's place; directives and usings are collected and leave a blank line.</summary>
    private string Translate(string line, string where, List<string> directives, List<string> sources, List<string> usings)
    {
        var trimmed = line.Trim();
        if (trimmed.StartsWith("#!", StringComparison.Ordinal))
        {
            return trimmed is "#!csharp" or "#!c#" or "#!C#"
                ? ""
                : throw new NotebookConversionException($"{where}: the magic command '{trimmed}' has no file-based equivalent; only #!csharp is allowed.");
        }
        if (NuGetReference().Match(trimmed) is { Success: true } package)
        {
            directives.Add(PackageDirective(package.Groups["id"].Value.Trim(), package.Groups["version"].Value.Trim(), where));
            return "";
        }
        if (trimmed.StartsWith("#r ", StringComparison.Ordinal))
        {
            throw new NotebookConversionException($"{where}: '{trimmed}' is not a NuGet reference; reference Acp and other packages with #r \"nuget: Id, version\".");
        }
        if (NuGetSource().Match(trimmed) is { Success: true } source)
        {
            sources.Add(source.Groups["source"].Value.Trim());
            return "";
        }
        if (trimmed.StartsWith("#i ", StringComparison.Ordinal))
        {
            throw new NotebookConversionException($"{where}: '{trimmed}' is not a NuGet source; write #i \"nuget: folder-or-url\".");
        }
        if (UsingDirective().IsMatch(trimmed))
        {
            usings.Add(trimmed);
            return "";
        }
        return line;
    }

    private string PackageDirective(string id, string version, string where)
    {
        if (id.StartsWith("Acp.", StringComparison.Ordinal))
        {
            if (version.Length > 0 && version != _acpVersion)
            {
                throw new NotebookConversionException($"{where}: references {id} {version}, but this checkout builds {_acpVersion}; update the notebook.");
            }
            var project = Path.Combine(_repositoryRoot, "src", id, id + ".csproj");
            return File.Exists(project)
                ? $"#:project {project}"
                : throw new NotebookConversionException($"{where}: references {id}, but there is no {project}.");
        }
        return version.Length > 0
            ? $"#:package {id}@{version}"
            : throw new NotebookConversionException($"{where}: references {id} without a version; pin one (#r \"nuget: {id}, x.y.z\") so runs are reproducible.");
    }

    [GeneratedRegex(@"^#r\s+""nuget:\s*(?<id>[^,""\s]+)\s*(,\s*(?<version>[^""]*))?""$")]
    private static partial Regex NuGetReference();

    [GeneratedRegex(@"^#i\s+""nuget:\s*(?<source>[^""]+)""$")]
    private static partial Regex NuGetSource();

    /// <summary>using N; using static N.T; using A = N.T; but not a using statement or declaration.</summary>
    [GeneratedRegex(@"^using\s+(static\s+)?[\w.]+(\s*=\s*[\w.<>, ]+)?\s*;$")]
    private static partial Regex UsingDirective();

    /// <summary>The notebook's display(x): strings as they are, sequences one element a line, anything else by ToString.</summary>
    private const string DisplayHelper = """

        static void display(object? value)
        {
            switch (value)
            {
                case null:
                    Console.WriteLine("null");
                    break;
                case string text:
                    Console.WriteLine(text);
                    break;
                case System.Collections.IEnumerable items:
                    foreach (var item in items) Console.WriteLine(item);
                    break;
                default:
                    Console.WriteLine(value);
                    break;
            }
        }

        """;
}
