using System.Collections.Concurrent;
using Acp.Onnx.Tests.Support;
using Acp.Tests.Support;

namespace Acp.Notebooks.Tests.Support;

/// <summary>A notebook run as a file-based app.</summary>
/// <param name="AppPath">The generated .cs file (deleted with the fixture unless ACP_NOTEBOOK_APPS names a folder to keep it in).</param>
/// <param name="Result">What <c>dotnet run</c> did.</param>
public sealed record NotebookRun(string AppPath, ProcessResult Result)
{
    /// <summary>The run, and the numbered app source, for assertion messages.</summary>
    public string Describe()
    {
        var source = File.ReadAllLines(AppPath).Select((line, i) => $"{i + 1,4}  {line}");
        return $"{Result.Describe()}\n--- {AppPath} ---\n{string.Join('\n', source)}";
    }
}

/// <summary>
/// Converts and runs each notebook at most once per test class, however many tests look at its output. The apps are
/// written outside the checkout (so the repository's Directory.Build.props, with warnings as errors, does not apply to
/// notebook code) and built into artifacts/notebook-tests, apart from a developer's own bin and obj folders.
/// </summary>
public sealed class NotebookRuns : IDisposable
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(15);

    /// <summary>When set, the folder the generated apps are written to and left in, to run or read by hand.</summary>
    public const string KeepAppsVariable = "ACP_NOTEBOOK_APPS";

    private readonly TemporaryDirectory? _temporary;
    private readonly string _appsDirectory;
    private readonly ConcurrentDictionary<string, Lazy<NotebookRun>> _runs = new(StringComparer.Ordinal);
    private readonly FileBasedAppConverter _converter = FileBasedAppConverter.ForRepository(RepositoryRoot.Path);

    /// <summary>Writes the apps to a temporary folder, or to <see cref="KeepAppsVariable"/>'s folder when that is set.</summary>
    public NotebookRuns()
    {
        var keep = Environment.GetEnvironmentVariable(KeepAppsVariable);
        if (string.IsNullOrEmpty(keep))
        {
            _temporary = new TemporaryDirectory("acp-notebooks-");
            _appsDirectory = _temporary.Path;
        }
        else
        {
            _appsDirectory = Directory.CreateDirectory(keep).FullName;
        }
    }

    /// <summary>The run of notebook <paramref name="fileName"/> (in notebooks/), started on first request.</summary>
    public NotebookRun Of(string fileName) => _runs.GetOrAdd(fileName, name => new Lazy<NotebookRun>(() => Run(name))).Value;

    private NotebookRun Run(string fileName)
    {
        var notebook = NotebookFiles.Load(fileName);
        var app = Path.Combine(_appsDirectory, notebook.Name, notebook.Name + ".cs");
        Directory.CreateDirectory(Path.GetDirectoryName(app)!);
        File.WriteAllText(app, _converter.Convert(notebook));

        var environment = new Dictionary<string, string?> { ["ACP_FIXTURES_DIR"] = Fixtures.Directory };
        // The notebooks folder is the working directory, as in a notebook editor.
        var result = ProcessRunner.Run("dotnet",
            ["run", "--file", app, "-c", "Release", "--artifacts-path", RepositoryRoot.Combine("artifacts", "notebook-tests"), "--disable-build-servers"],
            NotebookFiles.Directory, RunTimeout, environment);
        return new NotebookRun(app, result);
    }

    /// <inheritdoc/>
    public void Dispose() => _temporary?.Dispose();
}
