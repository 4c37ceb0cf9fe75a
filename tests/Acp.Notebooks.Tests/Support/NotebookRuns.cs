using System.Collections.Concurrent;
using Acp.Onnx.Tests.Support;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Acp.Notebooks.Tests.Support;

/// <summary>
/// Packs the checkout once and runs each notebook through the kernel at most once per test class, however many tests
/// look at its outputs. Which notebook and cell runs is reported as it happens (xunit diagnostic messages, which
/// tests/xunit.runner.json turns on) and kept for the test's own output.
/// </summary>
public sealed class NotebookRuns : IDisposable
{
    private static readonly TimeSpan CellTimeout = TimeSpan.FromMinutes(15);

    private readonly IMessageSink _sink;
    private readonly Lazy<LocalPackages> _packages;
    private readonly ConcurrentDictionary<string, Lazy<(NotebookRun Run, string Log)>> _runs = new(StringComparer.Ordinal);

    /// <summary>Nothing is packed or run until a test asks for a notebook.</summary>
    public NotebookRuns(IMessageSink sink)
    {
        _sink = sink;
        _packages = new Lazy<LocalPackages>(() => LocalPackages.Pack(Report));
    }

    /// <summary>The run of notebook <paramref name="fileName"/> (in notebooks/), started on first request; its log goes to <paramref name="output"/>.</summary>
    public NotebookRun Of(string fileName, ITestOutputHelper output)
    {
        var (run, log) = _runs.GetOrAdd(fileName, name => new Lazy<(NotebookRun, string)>(() => Run(name))).Value;
        output.WriteLine(log);
        return run;
    }

    private (NotebookRun, string) Run(string fileName)
    {
        var packages = _packages.Value;
        var log = new System.Text.StringBuilder();
        void Log(string line)
        {
            log.AppendLine(line);
            Report(line);
        }
        // A notebook editor starts the kernel in the notebook's folder; the notebooks find the shipped model from there.
        Directory.SetCurrentDirectory(NotebookFiles.Directory);
        Environment.SetEnvironmentVariable("ACP_FIXTURES_DIR", Fixtures.Directory);
        var run = NotebookKernel.RunAsync(Path.Combine(NotebookFiles.Directory, fileName), packages.Rewrite, Log, CellTimeout)
            .GetAwaiter().GetResult();
        return (run, log.ToString());
    }

    private void Report(string line) => _sink.OnMessage(new DiagnosticMessage($"[notebooks] {line}"));

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_packages.IsValueCreated) _packages.Value.Dispose();
    }
}
