#:project ../src/Acp.Pruning/Acp.Pruning.csproj
#:property Nullable=enable
#:property PublishAot=false
// How well does a candidate's fitness predict its accuracy after fine-tuning? (docs/benchmarks.md, "Fitness proxy")
//   dotnet run bench/fitness_proxy.cs -- [TARGET_MACS (0.3)] [STRUCTURES (8)] [TRUTH_IMAGES (27500)]
// For the shipped Fashion-MNIST ResNet-20 at a MAC budget: the acp structure of the last benchmark, the uniform one, the
// clustering's own and random structures near the budget. Each is scored by re-fitted BatchNormalization alone (p0)
// and after 10/25/50/100 steps of the acp fitness tuning (batch 64, constant rate, distillation), then fine-tuned for
// TRUTH_IMAGES images as the real run does (cosine, crop + flip, distillation) and measured on the 5,000 validation
// images. Prints one line per structure and Spearman's rank correlation of each proxy with that "truth".
using System.Diagnostics;
using Acp.Engine.Backends;
using Acp.Data;
using Acp.Engine.Execution;
using Acp.Engine.Tensors;
using Acp.Engine.Training;
using Acp.Onnx.Channels;
using Acp.Onnx.Ir;
using Acp.Pruning;
using Acp.Pruning.Clustering;
using Acp.Pruning.Pipeline;
using Acp.Pruning.Search;

var target = args.Length > 0 ? double.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 0.3;
var structureCount = args.Length > 1 ? int.Parse(args[1]) : 8;
var truthImages = args.Length > 2 ? int.Parse(args[2]) : 27_500;
var modelPath = Path.GetFullPath(Path.Combine("models", "fashion_resnet20.onnx"));
if (!File.Exists(modelPath)) throw new FileNotFoundException("Run this from the repository's root folder.", modelPath);
var model = OnnxModel.Load(modelPath);
var training = DatasetFolder.Open("/usr/share/datasets/fashion-mnist", DatasetSplit.Train);
var options = new PruningOptions
{
    Strategy = PruningStrategy.Acp, TargetFlops = target, ValidationFromTail = true,
    Normalization = new ChannelNormalization([0.2860f], [0.3530f]),
};
var data = RunData.Split(training, options);
var analysis = ChannelAnalysis.Run(model);
var groups = analysis.PrunableGroups;
var budget = new Budget(new CostPredictor(analysis), groups, options.TargetFlops, null);
var original = Network.Build(model, 0);
var features = FeatureMaps.Collect(new EngineNetwork(original), groups, data.Calibration, options.Tap, null, default);
var distances = features.Select(f => CosineDistance.Compute(f.Rows, f.Group.Width, f.FeatureCount)).ToArray();
var upper = groups.Select(g => g.Width).ToArray();
int[] Rounded(IReadOnlyList<int> w) => w.Select((x, d) => StructureRounding.Round(x, upper[d], options.RoundTo)).ToArray();
var found = EpsilonSearch.ForTargetWidth(distances, w => budget.Usage(Rounded(w)), 1.0, options.MinPoints);
var builder = new CandidateBuilder(analysis, ChannelRanking.Representatives(analysis, features, found.Clusterings), data.Recalibration, 0);
var recalibration = data.Recalibration.GetBatches(0).Select(b => new Tensor(b.Shape, b.ImageSpan.ToArray())).ToArray();

// The structure acp chose at -70 % in the benchmark of 2026-11-22 (2 epochs), then uniform, clustering, random.
var structures = new List<int[]> { new[] { 8, 8, 8, 8, 8, 32, 8, 8, 40, 48, 40, 16 }, budget.Uniform(options.RoundTo).Widths, Rounded(found.Widths) };
var random = new Random(7); // seeded System.Random: stable across .NET versions for a given seed
while (structures.Count < structureCount)
{
    var w = upper.Select(u => options.RoundTo * random.Next(1, u / options.RoundTo + 1)).ToArray();
    var usage = budget.Cost(w).Macs / (double)budget.Original.Macs;
    if (usage <= target && usage >= target - 0.04) structures.Add(w);
}

int[] marks = [10, 25, 50, 100];
// 100 batches of 64 fixed training images for the tuning proxies (the pipeline's tuner draws its own, fewer).
var tuning = new BatchLoader(data.Training.Dataset.Shuffle(11).Take(64 * marks[^1]), new BatchLoaderOptions { BatchSize = 64, Normalization = options.Normalization });
var rows = new List<double[]>();
foreach (var widths in structures)
{
    var clock = Stopwatch.StartNew();
    var (pruned, _) = builder.Prune(widths);
    var row = new List<double> { Score(builder.Recalibrated(pruned, default)) };
    // The fitness tuning (same teacher, same constant rate as FitnessTuner), stopped at each mark to score a copy.
    builder.Recalibrated(pruned, default).WriteWeightsTo(pruned);
    var student = Network.Build(pruned, 0);
    var trainer = new Trainer(student, tuning, new TrainingOptions
    {
        Sgd = new SgdOptions { Momentum = 0.9f, Nesterov = true, WeightDecay = options.WeightDecay },
        Distillation = new DistillationOptions(original, options.DistillationTemperature, options.DistillationWeight),
    });
    var step = 0;
    foreach (var batch in tuning.GetBatches(0))
    {
        trainer.Step(batch, options.LearningRate);
        if (marks.Contains(++step))
        {
            student.WriteWeightsTo(pruned);
            var copy = Network.Build(pruned, 0);
            copy.RecalibrateBatchNorm(recalibration);
            row.Add(Score(new EngineNetwork(copy)));
        }
    }
    // "Truth": the real fine-tuning's recipe on part of an epoch, from the inherited weights.
    var (fresh, _) = builder.Prune(widths);
    builder.Recalibrated(fresh, default).WriteWeightsTo(fresh);
    var tuned = Network.Build(fresh, 0);
    var loader = new BatchLoader(data.Training.Dataset.Shuffle(5).Take(truthImages), new BatchLoaderOptions
    {
        BatchSize = 128, Shuffle = true, DropLast = true, Seed = 0, Normalization = options.Normalization, CropPadding = 2, HorizontalFlip = true,
    });
    new Trainer(tuned, loader, new TrainingOptions
    {
        Schedule = new CosineSchedule(options.LearningRate),
        Sgd = new SgdOptions { Momentum = 0.9f, Nesterov = true, WeightDecay = options.WeightDecay },
        Distillation = new DistillationOptions(original, options.DistillationTemperature, options.DistillationWeight),
    }).TrainEpoch(0);
    var (correct, images) = CandidateBuilder.Score(new EngineNetwork(tuned), data.Validation, default);
    row.Add(correct / (double)images);
    rows.Add(row.ToArray());
    var usage = budget.Cost(widths).Macs / (double)budget.Original.Macs;
    Console.WriteLine($"{string.Join(",", widths)} MACs {usage:0.000} p0 {row[0]:0.0000} " +
        string.Join(" ", marks.Select((m, i) => $"p{m} {row[i + 1]:0.0000}")) + $" truth {row[^1]:0.0000} ({clock.Elapsed.TotalSeconds:0} s)");
}
string[] names = ["p0", .. marks.Select(m => $"p{m}")];
for (var i = 0; i < names.Length; i++)
{
    Console.WriteLine($"Spearman({names[i]}, truth) = {Spearman(rows.Select(r => r[i]).ToArray(), rows.Select(r => r[^1]).ToArray()):0.000}");
}

double Score(ITrainableNetwork network)
{
    var (correct, images) = CandidateBuilder.Score(network, data.Fitness, default);
    return correct / (double)images;
}

static double Spearman(double[] x, double[] y)
{
    static double[] Ranks(double[] v)
    {
        var order = Enumerable.Range(0, v.Length).OrderBy(i => v[i]).ToArray();
        var ranks = new double[v.Length];
        for (var i = 0; i < order.Length;)
        {
            var j = i;
            while (j + 1 < order.Length && v[order[j + 1]] == v[order[i]]) j++;
            for (var k = i; k <= j; k++) ranks[order[k]] = (i + j) / 2.0;
            i = j + 1;
        }
        return ranks;
    }
    var (rx, ry) = (Ranks(x), Ranks(y));
    var (mx, my) = (rx.Average(), ry.Average());
    var cov = rx.Zip(ry, (a, b) => (a - mx) * (b - my)).Sum();
    return cov / Math.Sqrt(rx.Sum(a => (a - mx) * (a - mx)) * ry.Sum(b => (b - my) * (b - my)));
}
