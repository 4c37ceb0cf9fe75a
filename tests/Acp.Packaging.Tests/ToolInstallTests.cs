using System.Text.Json;
using Acp.Onnx.Tests.Support;
using Acp.Packaging.Tests.Support;
using Acp.Tests.Support;

namespace Acp.Packaging.Tests;

/// <summary>The acp tool installed with <c>dotnet tool install</c> from the packed folder, run as a user would run it.</summary>
[Collection(PackedSolutionCollection.Name)]
public sealed class ToolInstallTests(PackedSolution packed)
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(2);

    [Fact]
    public void The_installed_tool_prints_help_naming_its_commands()
    {
        var result = Run("--help").EnsureSuccess();
        foreach (var verb in new[] { "inspect", "eval", "prune" })
        {
            Assert.Matches($@"(?m)^\s+{verb}\b", result.StandardOutput);
        }
    }

    [Fact]
    public void The_installed_tool_reports_the_package_version()
    {
        var result = Run("--version").EnsureSuccess();
        Assert.StartsWith(PackedSolution.Version, result.StandardOutput.Trim());
    }

    [Fact]
    public void The_installed_tool_counts_a_torchvision_model_as_pytorch_does()
    {
        // Loading a model exercises the bundled dependencies (Google.Protobuf) that --help never touches.
        const string model = "resnet18.folded.onnx";
        var result = Run("inspect", Fixtures.PathOf(model), "--json").EnsureSuccess();
        var report = JsonDocument.Parse(result.StandardOutput).RootElement;
        var manifest = Fixtures.Manifest(model);
        Assert.Equal(manifest.GetProperty("params_expected").GetInt64(), report.GetProperty("totalParams").GetInt64());
        Assert.Equal(manifest.GetProperty("macs_expected").GetInt64(), report.GetProperty("totalMacs").GetInt64());
    }

    [Fact]
    public void The_installed_tool_runs_onnx_runtime_with_no_setup()
    {
        // bench runs the model in ONNX Runtime: the native library must have come with the tool.
        var result = Run("bench", Fixtures.PathOf("tiny_cnn.onnx"), "--runs", "2", "--json").EnsureSuccess();
        var report = JsonDocument.Parse(result.StandardOutput).RootElement;
        Assert.True(report.GetProperty("models")[0].GetProperty("medianMs").GetDouble() > 0);
    }

    private ProcessResult Run(params string[] arguments) =>
        ProcessRunner.Run(packed.ToolExecutable, arguments, packed.Scratch("run"), RunTimeout);
}
