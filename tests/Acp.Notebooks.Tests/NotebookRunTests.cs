using System.Globalization;
using Acp.Notebooks.Tests.Support;
using Acp.Onnx.Tests.Support;
using Xunit.Abstractions;

namespace Acp.Notebooks.Tests;

/// <summary>Every notebook, converted to a file-based app, runs to its end; notebooks with known facts print them right.</summary>
public sealed class NotebookRunTests(NotebookRuns runs, ITestOutputHelper output) : IClassFixture<NotebookRuns>
{
    public static TheoryData<string> Notebooks => NotebookFiles.All;

    [Theory]
    [MemberData(nameof(Notebooks))]
    public void The_notebook_runs_every_cell_without_an_exception(string notebook)
    {
        var run = runs.Of(notebook);
        output.WriteLine(run.Result.StandardOutput);
        Assert.True(run.Result.ExitCode == 0, run.Describe());
        var printed = run.Result.StandardOutput + run.Result.StandardError;
        Assert.False(printed.Contains("Unhandled exception", StringComparison.OrdinalIgnoreCase), run.Describe());
        var lastLine = run.Result.StandardOutput.TrimEnd().Split('\n')[^1].Trim();
        Assert.True(lastLine == FileBasedAppConverter.CompletionMarker, $"The app did not reach the end of its last cell.\n{run.Describe()}");
    }

    [Fact]
    public void Inspect_channel_groups_counts_resnet18_as_pytorch_does()
    {
        var run = runs.Of("inspect-channel-groups.ipynb");
        Assert.True(run.Result.ExitCode == 0, run.Describe());
        var manifest = Fixtures.Manifest("resnet18.folded.onnx");
        var parameters = manifest.GetProperty("params_expected").GetInt64().ToString("N0", CultureInfo.InvariantCulture);
        var macs = manifest.GetProperty("macs_expected").GetInt64().ToString("N0", CultureInfo.InvariantCulture);
        Assert.Contains($"Total: {parameters} parameters, {macs} MACs at batch 1", run.Result.StandardOutput);
    }
}
