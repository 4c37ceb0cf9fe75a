using Acp.Reporting;

namespace Acp.Pruning.Tests.Reporting;

/// <summary>Report data shaped like a real ACP run (a ResNet-20 on CIFAR-10 at half the MACs), made deterministically.</summary>
internal static class ReportSamples
{
    public const int CandidateCount = 120;

    public static ReportData Acp(string modelName = "resnet20-cifar10.onnx")
    {
        var random = new Random(20240611);
        var candidates = new List<CandidatePoint>();
        for (var i = 0; i < CandidateCount - 1; i++)
        {
            var macs = 0.30 + 0.2 * random.NextDouble();
            var accuracy = 0.80 + 0.2 * macs + 0.03 * (random.NextDouble() - 0.5);
            candidates.Add(new CandidatePoint(macs, accuracy));
        }
        candidates.Insert(57, new CandidatePoint(0.492, 0.915, IsBest: true));

        var convergence = new List<ConvergencePoint>();
        var best = 0.871;
        for (var cycle = 0; cycle <= 12; cycle++)
        {
            best += 0.004 * Math.Exp(-cycle / 4.0);
            convergence.Add(new ConvergencePoint(cycle, best, best - 0.02 - 0.01 * Math.Exp(-cycle / 3.0)));
        }

        return new ReportData
        {
            Title = "Pruning report",
            ModelName = modelName,
            Strategy = "acp (DBSCAN clustering + PSO)",
            TargetDescription = "≤ 50% of the original MACs",
            TargetFlopsFraction = 0.5,
            Summary =
            [
                new("Parameters", "272,474", "139,802"),
                new("MACs", "40.81 M", "20.07 M"),
                new("Top-1 accuracy", "92.60%", "91.50%"),
                new("Latency (batch 1, ONNX Runtime)", "1.92 ms", "1.07 ms"),
            ],
            Convergence = convergence,
            Layers = ResNet20Layers(),
            Candidates = candidates,
            Baselines =
            [
                new("l1-norm", 0.497, 0.889),
                new("random", 0.501, 0.861),
            ],
            Notes = ["Fitness is top-1 accuracy on the held-out split after BN recalibration and 1 epoch of fine-tuning."],
        };
    }

    /// <summary>An L1 run: no search, so no convergence and no candidates.</summary>
    public static ReportData L1Only() => Acp() with
    {
        Strategy = "l1-norm",
        Convergence = [],
        Candidates = [],
        Baselines = [],
        Notes = [],
    };

    /// <summary>A deep network with long ONNX-exporter layer names, for legibility.</summary>
    public static ReportData ManyLayers(int count = 80) => Acp() with
    {
        Layers = Enumerable.Range(0, count)
            .Select(i => new LayerWidth($"/features/stage{i / 16 + 1}/block{i % 16}/bottleneck/expand_conv_{i}/Conv", 64 << (i / 20),
                (48 << (i / 20)) - 8 * (i % 3)))
            .ToList(),
    };

    private static List<LayerWidth> ResNet20Layers()
    {
        var layers = new List<LayerWidth> { new("/conv1/Conv", 16, 16) };
        int[] pruned = [8, 16, 8, 8, 16, 16, 16, 24, 32, 24, 24, 32, 40, 48, 32, 56, 48, 64];
        var index = 0;
        for (var stage = 1; stage <= 3; stage++)
            for (var block = 0; block < 3; block++)
                for (var conv = 1; conv <= 2; conv++)
                    layers.Add(new LayerWidth($"/layer{stage}/layer{stage}.{block}/conv{conv}/Conv", 16 << (stage - 1), pruned[index++]));
        return layers;
    }
}
