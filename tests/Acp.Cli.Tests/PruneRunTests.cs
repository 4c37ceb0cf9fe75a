using System.Text.Json;
using Acp.Onnx.Analysis;
using Acp.Onnx.Ir;
using Acp.Onnx.Runtime;
using Acp.Onnx.Tests.Support;
using Acp.Pruning.Tests.Pipeline;
using static Acp.Cli.Tests.CliHarness;

namespace Acp.Cli.Tests;

/// <summary><c>acp prune</c> with data: the whole run from the command line.</summary>
public sealed class PruneRunTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("acp-prune-run-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly string[] Fast = ["--particles", "3", "--cycles", "1", "--epochs", "1", "--validation-images", "500", "--round-to", "2", "--mean", "0.2860", "--std", "0.3530"];

    private string Model()
    {
        var path = Path.Combine(_dir, "model.onnx");
        TrainedSmallCnn.Model().Save(path);
        return path;
    }

    [Fact]
    public async Task The_short_form_prunes_within_budget_and_reports_test_accuracy_latency_and_a_report()
    {
        var data = SmallIdxData.Write(Path.Combine(_dir, "data"));
        var output = Path.Combine(_dir, "slim.onnx");
        var report = Path.Combine(_dir, "report");

        var (code, stdout, error) = await RunAcp(["prune", Model(), "--data", data, "--target-flops", "0.5", "--out", output, "--report", report, "--json", .. Fast]);

        Assert.True(code == 0, error);
        var json = JsonDocument.Parse(stdout).RootElement;
        var slim = OnnxModel.Load(output);
        var cost = ModelCost.Compute(slim, ShapeInference.Run(slim));
        Assert.Equal(cost.TotalMacs, json.GetProperty("macsAfter").GetInt64());
        Assert.True(cost.TotalMacs <= 0.5 * json.GetProperty("macsBefore").GetInt64());
        Assert.Equal("acp", json.GetProperty("strategy").GetString());
        Assert.InRange(json.GetProperty("testAccuracyAfter").GetDouble(), 0.5, 1);
        Assert.True(json.GetProperty("latencyAfterMs").GetDouble() > 0);
        Assert.True(json.GetProperty("evaluations").GetInt32() >= 1);
        var log = File.ReadAllLines(Path.Combine(output + ".run", "evaluations.jsonl"));
        Assert.True(json.GetProperty("finalists").GetInt32() >= 1);
        Assert.Equal(json.GetProperty("evaluations").GetInt32() + json.GetProperty("finalists").GetInt32(), log.Length);
        var html = File.ReadAllText(Path.Combine(report, "report.html"));
        Assert.Contains("id=\"convergence-chart\"", html);
        using var session = OrtRun.Session(output);
        Assert.Equal(1, session.InputMetadata.Values.Single().Dimensions[1]);
    }

    [Fact]
    public async Task The_models_normalisation_metadata_normalises_the_test_split_as_explicit_flags_do()
    {
        var data = SmallIdxData.Write(Path.Combine(_dir, "data"));
        var model = TrainedSmallCnn.Model();
        model.Metadata.Add(KeyValuePair.Create("acp.mean", "0.2860"));
        model.Metadata.Add(KeyValuePair.Create("acp.std", "0.3530"));
        var path = Path.Combine(_dir, "with-metadata.onnx");
        model.Save(path);
        string[] common = ["prune", path, "--data", data, "--target-flops", "0.5", "--strategy", "l1", "--epochs", "0", "--validation-images", "500", "--round-to", "2", "--json", "--force"];

        var (code, fromMetadata, error) = await RunAcp([.. common, "--out", Path.Combine(_dir, "a.onnx")]);
        Assert.True(code == 0, error);
        (code, var fromFlags, error) = await RunAcp([.. common, "--out", Path.Combine(_dir, "b.onnx"), "--mean", "0.2860", "--std", "0.3530"]);
        Assert.True(code == 0, error);

        double Test(string json, string key) => JsonDocument.Parse(json).RootElement.GetProperty(key).GetDouble();
        Assert.Equal(Test(fromFlags, "testAccuracyBefore"), Test(fromMetadata, "testAccuracyBefore"));
        Assert.Equal(Test(fromFlags, "testAccuracyAfter"), Test(fromMetadata, "testAccuracyAfter"));
        Assert.InRange(Test(fromMetadata, "testAccuracyBefore"), 0.6, 1);
    }

    [Fact]
    public async Task The_test_split_is_opened_only_after_the_search_and_the_model_are_done()
    {
        var data = SmallIdxData.Write(Path.Combine(_dir, "data"));
        // A test split that fails to read: the run must get all the way to writing the model before it notices.
        foreach (var file in Directory.GetFiles(data, "t10k-*")) File.WriteAllBytes(file, [1, 2, 3]);
        var output = Path.Combine(_dir, "slim.onnx");

        var (code, _, error) = await RunAcp(["prune", Model(), "--data", data, "--target-flops", "0.5", "--out", output, "--strategy", "l1", "--quiet", .. Fast]);

        Assert.Equal(ExitCodes.InvalidInput, code);
        Assert.Contains("t10k", error);
        Assert.True(File.Exists(output), "the pruned model was written before the test split was read");
        Assert.True(File.Exists(Path.Combine(output + ".run", "finetune.json")), "fine-tuning finished before the test split was read");
    }

    [Theory]
    [InlineData(new[] { "--strategy", "acp", "--target-flops", "0.5" }, "needs --data")]
    [InlineData(new[] { "--target-flops", "0.5", "--ratio", "0.5" }, "exclude each other")]
    [InlineData(new[] { "--data", "/nonexistent-acp-data", "--target-flops", "0.5" }, "/nonexistent-acp-data")]
    [InlineData(new[] { "--data", "/usr/share/datasets/fashion-mnist", "--ratio", "0.5" }, "--target-flops")]
    public async Task Bad_arguments_fail_with_one_clear_line(string[] arguments, string expected)
    {
        var (code, _, error) = await RunAcp(["prune", Model(), "--out", Path.Combine(_dir, "o.onnx"), .. arguments]);
        Assert.Equal(ExitCodes.InvalidInput, code);
        Assert.Contains(expected, error);
        Assert.Single(error.Trim().Split('\n'));
    }

    [Fact]
    public async Task An_out_of_range_budget_is_a_usage_error()
    {
        var (code, _, error) = await RunAcp(["prune", Model(), "--out", Path.Combine(_dir, "o.onnx"), "--target-flops", "1.5"]);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("--target-flops", error);
    }

    [Fact]
    public async Task Fitness_steps_reach_the_search()
    {
        var data = SmallIdxData.Write(Path.Combine(_dir, "data"));
        var model = Model();
        async Task<JsonElement> FirstEvaluation(string steps)
        {
            var output = Path.Combine(_dir, $"slim-{steps}.onnx");
            var (code, _, error) = await RunAcp(["prune", model, "--data", data, "--target-flops", "0.5", "--out", output, "--fitness-steps", steps,
                "--particles", "2", "--cycles", "0", "--epochs", "0", "--validation-images", "500", "--round-to", "2", "--mean", "0.2860", "--std", "0.3530",
                "--no-test", "--quiet", "--json"]);
            Assert.True(code == 0, error);
            return JsonDocument.Parse(File.ReadLines(Path.Combine(output + ".run", "evaluations.jsonl")).First()).RootElement;
        }

        var untuned = await FirstEvaluation("0");
        var tuned = await FirstEvaluation("5");

        // The first structure scored is the same either way; only how it was scored differs.
        Assert.Equal(untuned.GetProperty("Widths").ToString(), tuned.GetProperty("Widths").ToString());
        Assert.NotEqual(untuned.GetProperty("Correct").GetInt32(), tuned.GetProperty("Correct").GetInt32());
    }

    [Fact]
    public async Task Finalists_and_the_capacity_floor_are_on_by_default_and_can_be_turned_off()
    {
        var data = SmallIdxData.Write(Path.Combine(_dir, "data"));
        var model = Model();
        async Task<(string[] Stages, long MinParams)> Run(string name, params string[] extra)
        {
            var output = Path.Combine(_dir, name + ".onnx");
            var (code, _, error) = await RunAcp(["prune", model, "--data", data, "--target-flops", "0.5", "--out", output,
                "--particles", "4", "--cycles", "2", "--epochs", "0", "--validation-images", "500", "--round-to", "2", "--mean", "0.2860", "--std", "0.3530",
                "--finalist-steps", "3", "--no-test", "--quiet", "--json", .. extra]);
            Assert.True(code == 0, error);
            var lines = File.ReadLines(Path.Combine(output + ".run", "evaluations.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
            return (lines.Select(l => l.GetProperty("Stage").GetString()!).ToArray(),
                lines.Where(l => l.GetProperty("Stage").GetString() == "Swarm").Min(l => l.GetProperty("Params").GetInt64()));
        }

        var (defaults, floored) = await Run("defaults");
        var (off, free) = await Run("off", "--finalists", "0", "--capacity-floor", "0");

        Assert.Contains("Finalist", defaults);
        Assert.DoesNotContain("Finalist", off);
        // Without the floor the swarm scores structures with fewer parameters than any it scores with it.
        Assert.True(free < floored, $"without the floor the narrowest candidate has {free} parameters, with it {floored}");
    }

    [Fact]
    public async Task A_finished_run_folder_is_not_silently_reused()
    {
        var data = SmallIdxData.Write(Path.Combine(_dir, "data"));
        var output = Path.Combine(_dir, "slim.onnx");
        string[] args = ["prune", Model(), "--data", data, "--target-flops", "0.6", "--out", output, "--strategy", "random", "--no-test", "--quiet", "--json", .. Fast];
        var first = await RunAcp(args);
        Assert.True(first.Code == 0, first.Err);
        var bytes = File.ReadAllBytes(output);

        var again = await RunAcp([.. args, "--force"]);
        Assert.True(again.Code == 0, again.Err);
        Assert.Equal(bytes, File.ReadAllBytes(output));

        var resumed = await RunAcp([.. args, "--resume"]);
        Assert.True(resumed.Code == 0, resumed.Err);
        Assert.Equal(bytes, File.ReadAllBytes(output));

        File.Delete(output);
        var refused = await RunAcp(args);
        Assert.Equal(ExitCodes.Failure, refused.Code);
        Assert.Contains("--resume", refused.Err);
    }

    [Fact]
    public async Task A_run_that_failed_on_its_data_does_not_block_the_corrected_command()
    {
        var model = Model();
        var output = Path.Combine(_dir, "slim.onnx");
        string[] common = ["prune", model, "--target-flops", "0.6", "--out", output, "--strategy", "l1", "--no-test", "--quiet", "--json", .. Fast];

        // Images of the wrong size: the model takes 28×28.
        var wrong = await RunAcp([.. common, "--data", SmallIdxData.WriteRandom(Path.Combine(_dir, "wrong"), size: 20)]);
        Assert.Equal(ExitCodes.InvalidInput, wrong.Code);
        Assert.Single(wrong.Err.Trim().Split('\n'));
        Assert.False(File.Exists(output));

        // What an older acp, or a run cancelled before its first evaluation, leaves: run.json alone.
        Directory.CreateDirectory(output + ".run");
        await File.WriteAllTextAsync(Path.Combine(output + ".run", "run.json"), "{\"Fingerprint\":\"00\",\"Description\":\"a run that never started\"}");

        var (code, _, error) = await RunAcp([.. common, "--data", SmallIdxData.Write(Path.Combine(_dir, "data"))]);
        Assert.True(code == 0, error);
        using var session = OrtRun.Session(output);
    }

    [Fact]
    public async Task A_model_without_a_prunable_conv_is_an_unusable_input_and_leaves_nothing()
    {
        var graph = new Graph();
        graph.Inputs.Add(new ValueInfo("x", ElementType.Float, [Dimension.Fixed(1), Dimension.Fixed(1), Dimension.Fixed(28), Dimension.Fixed(28)]));
        graph.Outputs.Add(new ValueInfo("y", ElementType.Float, null));
        graph.Initializers.Add(Acp.Onnx.Tests.Support.TinyModels.RandomFloats("w", [10, 784], new Random(1)));
        graph.Nodes.Add(new Node("flat", "Flatten", ["x"], ["f"]));
        graph.Nodes.Add(new Node("fc", "Gemm", ["f", "w"], ["y"], [NodeAttribute.FromInt("transB", 1)]));
        var model = new OnnxModel(graph) { IrVersion = 8 };
        model.OpsetImports.Add(new OpsetImport("", 13));
        var path = Path.Combine(_dir, "noconv.onnx");
        model.Save(path);
        var output = Path.Combine(_dir, "slim.onnx");

        var (code, _, error) = await RunAcp(["prune", path, "--data", SmallIdxData.WriteRandom(Path.Combine(_dir, "data"), size: 28), "--target-flops", "0.5", "--out", output, "--quiet", .. Fast]);

        Assert.Equal(ExitCodes.InvalidInput, code);
        Assert.Single(error.Trim().Split('\n'));
        Assert.Contains("no prunable channel group", error);
        Assert.False(File.Exists(output));
        Assert.False(Directory.Exists(output + ".run"));
    }

    [Theory]
    [InlineData("out")]
    [InlineData("run-dir")]
    [InlineData("report")]
    public async Task No_output_may_lie_inside_the_data_folder_or_hold_the_model(string which)
    {
        var data = SmallIdxData.WriteRandom(Path.Combine(_dir, "data"), size: 28);
        var before = Directory.GetFiles(data).ToDictionary(f => f, File.ReadAllBytes);
        var model = Model();
        string[] args = which switch
        {
            "out" => ["--out", Path.Combine(data, "train-images-idx3-ubyte.gz"), "--force"],
            "run-dir" => ["--out", Path.Combine(_dir, "o.onnx"), "--run-dir", _dir, "--force"],
            _ => ["--out", Path.Combine(_dir, "o.onnx"), "--report", data],
        };

        var (code, _, error) = await RunAcp(["prune", model, "--data", data, "--target-flops", "0.5", "--quiet", .. args, .. Fast]);

        Assert.Equal(ExitCodes.InvalidInput, code);
        Assert.Single(error.Trim().Split('\n'));
        Assert.True(File.Exists(model));
        foreach (var (file, bytes) in before) Assert.Equal(bytes, File.ReadAllBytes(file));
    }

    [Fact]
    public async Task Cuda_that_is_not_there_fails_before_any_work()
    {
        // The tests carry the CPU builds of ONNX Runtime and LibTorch.
        if (OrtRuntime.HasCudaProvider) return;
        var data = SmallIdxData.Write(Path.Combine(_dir, "data"));
        var output = Path.Combine(_dir, "slim.onnx");

        var (code, stdout, stderr) = await RunAcp(["prune", Model(), "--data", data, "--target-flops", "0.5", "--out", output, "--backend", "torchsharp", "--device", "cuda:0", .. Fast]);

        Assert.Equal(ExitCodes.Failure, code);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.Contains("CUDA is not available", stderr);
        Assert.False(File.Exists(output), "the model was written: the check came after the work");
        Assert.False(Directory.Exists(output + ".run"), "the run started before the check");
        Assert.DoesNotContain("Calibrating", stdout);
    }
}
