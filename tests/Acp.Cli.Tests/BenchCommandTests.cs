using System.Text.Json;
using Acp.Onnx.Tests.Support;
using static Acp.Cli.Tests.CliHarness;

namespace Acp.Cli.Tests;

public sealed class BenchCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("acp-bench-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Two_models_side_by_side_report_their_cost_and_a_speed_up_that_follows_the_mac_cut()
    {
        var original = Fixtures.PathOf("resnet18.folded.onnx");
        var slim = Path.Combine(_dir, "slim.onnx");
        var prune = await RunAcp("prune", original, "--ratio", "0.75", "--out", slim, "--quiet", "--json");
        Assert.True(prune.Code == 0, prune.Err);

        var (code, stdout, error) = await RunAcp("bench", original, slim, "--runs", "10", "--rounds", "2", "--json");

        Assert.True(code == 0, error);
        var report = JsonDocument.Parse(stdout).RootElement;
        var models = report.GetProperty("models");
        Assert.Equal(2, models.GetArrayLength());
        Assert.Equal(Fixtures.Manifest("resnet18.folded.onnx").GetProperty("macs_expected").GetInt64(), models[0].GetProperty("macs").GetInt64());
        Assert.True(models[1].GetProperty("macs").GetInt64() < models[0].GetProperty("macs").GetInt64() / 5);
        // A model with a fifth of the MACs must be measurably faster, whatever the machine's load.
        Assert.True(report.GetProperty("speedUp").GetDouble() > 1.3, stdout);
        Assert.Equal(20, report.GetProperty("runs").GetInt32());
    }

    [Fact]
    public async Task One_model_prints_a_table()
    {
        var (code, stdout, error) = await RunAcp("bench", Fixtures.PathOf("tiny_cnn.onnx"), "--runs", "5");
        Assert.True(code == 0, error);
        Assert.Contains("tiny_cnn.onnx", stdout);
        Assert.Contains("median latency", stdout);
        Assert.DoesNotContain("Speed-up", stdout);
    }

    [Fact]
    public async Task A_missing_model_and_a_bad_count_fail_clearly()
    {
        var missing = await RunAcp("bench", Path.Combine(_dir, "nope.onnx"));
        Assert.Equal(ExitCodes.InvalidInput, missing.Code);
        Assert.Contains("nope.onnx", missing.Err);
        var bad = await RunAcp("bench", Fixtures.PathOf("tiny_cnn.onnx"), "--runs", "0");
        Assert.Equal(ExitCodes.Usage, bad.Code);
        Assert.Contains("--runs", bad.Err);
    }
}
