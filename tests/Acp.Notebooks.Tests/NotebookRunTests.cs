using System.Globalization;
using System.Text.Json;
using Acp.Notebooks.Tests.Support;
using Acp.Onnx.Tests.Support;
using Acp.Tests.Support;
using Xunit.Abstractions;

namespace Acp.Notebooks.Tests;

/// <summary>
/// Every notebook runs cell by cell in the .NET Interactive C# kernel against this checkout packed as NuGet packages;
/// what a notebook shows is checked where an independent source knows the answer (PyTorch's counts and accuracies) or
/// where the notebook says what it shows (the tables and the report's charts).
/// </summary>
public sealed class NotebookRunTests(NotebookRuns runs, ITestOutputHelper output) : IClassFixture<NotebookRuns>
{
    public static TheoryData<string> Notebooks => NotebookFiles.All;

    [Theory]
    [MemberData(nameof(Notebooks))]
    public void The_notebook_runs_every_cell_in_the_kernel_without_an_error(string notebook)
    {
        var run = Run(notebook);
        Assert.True(run.Succeeded, run.Describe());
    }

    [Fact]
    public void Inspect_channel_groups_counts_resnet18_as_pytorch_does_and_tables_its_groups()
    {
        var run = Succeeded("inspect-channel-groups.ipynb");
        var manifest = Fixtures.Manifest("resnet18.folded.onnx");
        var parameters = manifest.GetProperty("params_expected").GetInt64().ToString("N0", CultureInfo.InvariantCulture);
        var macs = manifest.GetProperty("macs_expected").GetInt64().ToString("N0", CultureInfo.InvariantCulture);
        Assert.Contains($"Total: {parameters} parameters, {macs} MACs at batch 1", run.Values("text/plain"));

        var groups = Table(run, "Id", "Width", "Prunable", "Producers", "Members", "Fenced");
        Assert.Contains(groups, row => row["Prunable"] == "True");
        // Exactly two groups are fenced: the input's colour channels and the class scores, as wide as PyTorch exported them.
        var fenced = groups.Where(row => row["Prunable"] == "False").ToList();
        var input = manifest.GetProperty("input_shape")[1].GetInt32().ToString(CultureInfo.InvariantCulture);
        var classes = manifest.GetProperty("output_shape")[1].GetInt32().ToString(CultureInfo.InvariantCulture);
        Assert.Equal(2, fenced.Count);
        Assert.Contains(fenced, row => row["Width"] == input && row["Fenced"].Contains("graph input", StringComparison.Ordinal));
        Assert.Contains(fenced, row => row["Width"] == classes && row["Fenced"].Contains("graph output", StringComparison.Ordinal));
    }

    [Fact]
    public void Prune_fashion_mnist_shows_the_before_after_table_the_charts_and_an_accurate_pruned_model()
    {
        var run = Succeeded("prune-fashion-mnist.ipynb");
        var shipped = ShippedModel();

        var summary = Table(run, "Metric", "Before", "After");
        var parameters = summary.Single(row => row["Metric"] == "Parameters");
        Assert.Equal(shipped.GetProperty("parameters").GetInt64().ToString("N0", CultureInfo.InvariantCulture), parameters["Before"]);
        Assert.Contains(summary, row => row["Metric"] == "MACs per image");

        // ONNX Runtime (through ML.NET's evaluator) scores the pruned model; PyTorch scored the original on the same
        // 2,000 test images. Half the MACs and one short epoch of fine-tuning cost a few points, not more.
        var testRow = summary.Single(row => row["Metric"].StartsWith("Test accuracy", StringComparison.Ordinal));
        var pruned = double.Parse(testRow["After"].TrimEnd('%'), CultureInfo.InvariantCulture) / 100;
        var original = shipped.GetProperty("accuracy_pytorch").GetProperty("test_first_2000").GetDouble();
        Assert.InRange(pruned, original - 0.08, 1.0);

        foreach (var chart in new[] { "tradeoff-chart", "convergence-chart", "widths-chart" })
        {
            Assert.Contains(run.Values("text/html"), html => html.Contains("<svg", StringComparison.Ordinal) && html.Contains($"id=\"{chart}\"", StringComparison.Ordinal));
        }
        var widths = Table(run, "GroupId", "Name", "OriginalWidth", "PrunedWidth");
        Assert.Contains(widths, row => int.Parse(row["PrunedWidth"], CultureInfo.InvariantCulture) < int.Parse(row["OriginalWidth"], CultureInfo.InvariantCulture));
    }

    [Fact]
    public void Compare_strategies_tables_three_strategies_within_budget_and_charts_them()
    {
        var run = Succeeded("compare-strategies.ipynb");
        var rows = Table(run, "Strategy", "Macs", "Parameters", "ValidationBeforeFineTuning", "Validation", "Test", "CandidatesScored");
        Assert.Equal(["acp", "l1", "random"], rows.Select(row => row["Strategy"]));
        Assert.All(rows, row => Assert.InRange(double.Parse(row["Macs"], CultureInfo.InvariantCulture), 0.05, 0.5));
        Assert.True(int.Parse(rows[0]["CandidatesScored"], CultureInfo.InvariantCulture) > 0, "ACP scored no candidate.");
        Assert.Contains(run.Values("text/html"), html => html.Contains("id=\"tradeoff-chart\"", StringComparison.Ordinal));
        var widths = Table(run, "Group", "Original", "Acp", "Uniform");
        Assert.Contains(widths, row => row["Acp"] != row["Original"]);
    }

    private NotebookRun Run(string notebook) => runs.Of(notebook, output);

    private NotebookRun Succeeded(string notebook)
    {
        var run = Run(notebook);
        Assert.True(run.Succeeded, run.Describe());
        return run;
    }

    /// <summary>models/fashion_resnet20.json: what PyTorch measured when it trained the shipped model.</summary>
    private static JsonElement ShippedModel() =>
        JsonDocument.Parse(File.ReadAllText(RepositoryRoot.Combine("models", "fashion_resnet20.json"))).RootElement.Clone();

    /// <summary>The rows of the table a cell displayed (its HTML form) whose header is exactly <paramref name="columns"/>.</summary>
    private static List<Dictionary<string, string>> Table(NotebookRun run, params string[] columns)
    {
        foreach (var html in run.Values("text/html"))
        {
            var lines = HtmlTable.Parse(html);
            if (lines.Count > 0 && lines[0].SequenceEqual(columns))
            {
                return lines.Skip(1).Select(cells => columns.Zip(cells).ToDictionary(p => p.First, p => p.Second)).ToList();
            }
        }
        Assert.Fail($"{run.FileName} displayed no table with the columns {string.Join(", ", columns)}.\n{run.Describe()}");
        return [];
    }
}
