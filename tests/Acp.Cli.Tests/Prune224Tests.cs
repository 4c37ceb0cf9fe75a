using Acp.Onnx.Analysis;
using Acp.Onnx.Ir;
using Acp.Onnx.Tests.Support;
using Acp.Pruning.Tests.Pipeline;
using static Acp.Cli.Tests.CliHarness;

namespace Acp.Cli.Tests;

/// <summary>
/// A prune with data at ImageNet size, end to end: the 224-px ResNet-18 (torchvision resnet18(num_classes=10),
/// BatchNormalization kept; tools/generate_imagenet_fixtures.py) on twenty Fashion-MNIST images written as a
/// 224×224×3 image folder by tools/make_fashion_image_folder.py, with the shortest schedule that still goes through every
/// stage. The estimates come before the search, progress reports images/s, and the model ONNX Runtime runs is within
/// the budget with ten outputs.
/// </summary>
public sealed class Prune224Tests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("acp-prune224-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task A_224_pixel_prune_on_a_tiny_folder_estimates_its_stages_first_and_writes_a_model_within_budget()
    {
        var data = FashionImageFolder.Write(Path.Combine(_dir, "fashion224"), trainPerClass: 2, testPerClass: 1);
        var modelPath = Fixtures.ImagenetPathOf("resnet18_10.224.bn.onnx");
        var output = Path.Combine(_dir, "slim.onnx");

        var (code, stdout, error) = await RunAcp("prune", modelPath, "--data", data, "--target-flops", "0.5", "--out", output,
            "--validation-images", "10", "--calibration-images", "10", "--recalibration-images", "8", "--batch-size", "8",
            "--particles", "2", "--cycles", "0", "--finalists", "0", "--epochs", "1");

        Assert.True(code == 0, error + stdout);
        var lines = stdout.Split('\n');
        int First(string prefix) => Array.FindIndex(lines, l => l.StartsWith(prefix, StringComparison.Ordinal));
        // Every stage's estimate is printed before the first search line, and each is a time.
        var searchStarts = First("Searching:");
        Assert.True(searchStarts > 0, stdout);
        foreach (var stage in new[] { "Calibrating", "Clustering", "Searching", "Fine-tuning", "Exporting", "total" })
        {
            var estimate = First($"  estimated {stage} ");
            Assert.True(estimate >= 0 && estimate < searchStarts, $"no estimate of {stage} before the search:\n{stdout}");
            Assert.Matches(@"^  estimated \S+ +\d+:\d\d", lines[estimate]);
        }
        // Each estimated stage says, when it ends, how long it took.
        foreach (var stage in new[] { "Calibrating", "Clustering", "Searching", "Fine-tuning", "Exporting" })
        {
            Assert.Matches($@"(?m)^{stage} took \d+:\d\d \(estimated \d+:\d\d\)", stdout);
        }
        // Throughput while calibrating, searching and fine-tuning.
        foreach (var stage in new[] { "Calibrating:", "Searching:", "Fine-tuning:" })
        {
            Assert.True(lines.Any(l => l.StartsWith(stage, StringComparison.Ordinal) && System.Text.RegularExpressions.Regex.IsMatch(l, @"\d+(\.\d+)? images/s")),
                $"no throughput while {stage}\n{stdout}");
        }

        var original = OnnxModel.Load(modelPath);
        var pruned = OnnxModel.Load(output);
        var before = ModelCost.Compute(original, ShapeInference.Run(original)).TotalMacs;
        var after = ModelCost.Compute(pruned, ShapeInference.Run(pruned)).TotalMacs;
        Assert.InRange(after, 1, before / 2);
        var input = new float[2 * 3 * 224 * 224];
        var random = new Random(5);
        for (var i = 0; i < input.Length; i++) input[i] = (float)random.NextDouble();
        using var session = OrtRun.Session(output, threads: 1);
        var logits = session.First("input", input, 2, 3, 224, 224);
        Assert.Equal([2L, 10L], logits.Shape);
        Assert.All(logits.Data, v => Assert.True(float.IsFinite(v)));
    }
}
