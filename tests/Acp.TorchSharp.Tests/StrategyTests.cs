using Acp.Data;
using Acp.Engine.Backends;
using Acp.Engine.Execution;
using Acp.Engine.Training;
using Acp.Onnx;
using Acp.Pruning.Pipeline;
using Acp.Pruning.Search;
using Acp.Pruning.Tests.Pipeline;
using Xunit.Abstractions;

namespace Acp.TorchSharp.Tests;

/// <summary>The strategies beyond ACP (soft pruning, the paper's search) run through the seam on TorchSharp too.</summary>
public sealed class StrategyTests(ITestOutputHelper log)
{
    /// <summary>Tiny settings on a few hundred images: this checks the strategy runs on the backend, not its quality.</summary>
    private static PruningOptions Tiny(PruningStrategy strategy, IComputeBackend backend) => new()
    {
        Strategy = strategy,
        TargetFlops = 0.5,
        Normalization = ChannelNormalization.FashionMnist,
        ValidationImages = 200,
        FitnessImages = 100,
        CalibrationImages = 50,
        RecalibrationImages = 64,
        Swarm = new PsoOptions { Particles = 2, Cycles = 1, MaxVelocityFraction = 0.25 },
        PaperFitnessEpochs = 1,
        Finalists = 1,
        FinalistSteps = 2,
        Epochs = 1,
        BatchSize = 64,
        Seed = 5,
        RoundTo = 2,
        Backend = backend,
    };

    [Theory]
    [InlineData(PruningStrategy.Sfp)]
    [InlineData(PruningStrategy.Asrfp)]
    [InlineData(PruningStrategy.Ghfp)]
    [InlineData(PruningStrategy.AcpPaper)]
    public void Runs_on_torchsharp_within_budget_and_exports_what_it_scored(PruningStrategy strategy)
    {
        var data = DatasetFolder.Open(TrainedSmallCnn.FashionMnist, DatasetSplit.Train, 600);
        var options = Tiny(strategy, new TorchSharpBackend(ComputeDevice.Cpu));

        var result = PruningPipeline.Run(TrainedSmallCnn.Model(), data, options);
        var engine = PruningPipeline.Run(TrainedSmallCnn.Model(), data, Tiny(strategy, EngineBackend.Instance));

        log.WriteLine($"engine {strategy}: widths {string.Join(",", engine.Widths.Select(w => w.PrunedWidth))}, validation {engine.Original.ValidationAccuracy:P2} → {engine.PrunedBeforeFineTuning.ValidationAccuracy:P2} → {engine.Pruned.ValidationAccuracy:P2}");
        log.WriteLine($"torchsharp {strategy}: widths {string.Join(",", result.Widths.Select(w => w.PrunedWidth))}, MACs {result.Pruned.Macs}/{result.Original.Macs}, validation {result.Original.ValidationAccuracy:P2} → {result.PrunedBeforeFineTuning.ValidationAccuracy:P2} → {result.Pruned.ValidationAccuracy:P2}");
        Assert.True(result.Pruned.Macs <= 0.5 * result.Original.Macs, $"{result.Pruned.Macs} MACs is over half of {result.Original.Macs}");
        Assert.Contains(result.Widths, w => w.PrunedWidth < w.OriginalWidth);
        // The engine, an independent implementation, scores the exported model as the TorchSharp network did.
        var validation = RunData.Split(data, Tiny(strategy, EngineBackend.Instance)).Validation;
        var rescored = Evaluation.Accuracy(Network.Build(result.Model), validation.GetBatches(0));
        Assert.Equal(result.Pruned.ValidationAccuracy!.Value, rescored.Top1, 2);
        // The engine backend with the same settings and seed: the same run up to float noise (measured: identical widths and accuracies).
        Assert.InRange(result.Pruned.ValidationAccuracy!.Value, engine.Pruned.ValidationAccuracy!.Value - 0.03, engine.Pruned.ValidationAccuracy!.Value + 0.03);
        if (strategy != PruningStrategy.AcpPaper)
        {
            // The soft strategies' structure is the uniform L1 target of the same weights: it cannot depend on the backend.
            Assert.Equal(engine.Widths.Select(w => w.PrunedWidth), result.Widths.Select(w => w.PrunedWidth));
        }
    }

    [Fact]
    public void Aip_with_attention_transfer_and_the_adversarial_term_runs_on_torchsharp_within_budget()
    {
        var data = DatasetFolder.Open(TrainedSmallCnn.FashionMnist, DatasetSplit.Train, 600);
        // Two cuts with a few recovery steps each: both losses are on (the defaults' weights).
        PruningOptions Aip(IComputeBackend backend) => Tiny(PruningStrategy.Aip, backend) with
        {
            Aip = new AipOptions { StepFraction = 0.3, RecoverySteps = 6, DiscriminatorWidth = 16 },
        };

        var result = PruningPipeline.Run(TrainedSmallCnn.Model(), data, Aip(new TorchSharpBackend(ComputeDevice.Cpu)));
        var engine = PruningPipeline.Run(TrainedSmallCnn.Model(), data, Aip(EngineBackend.Instance));

        string Line(string name, PruningResult r) =>
            $"{name} aip: widths {string.Join(",", r.Widths.Select(w => w.PrunedWidth))}, steps {string.Join(" ", r.Candidates.Where(c => c.Stage == CandidateStage.AipRecovered).Select(c => $"{c.Accuracy:P1}"))}, " +
            $"validation {r.Original.ValidationAccuracy:P2} → {r.PrunedBeforeFineTuning.ValidationAccuracy:P2} → {r.Pruned.ValidationAccuracy:P2}";
        log.WriteLine(Line("engine", engine));
        log.WriteLine(Line("torchsharp", result));
        Assert.True(result.Pruned.Macs <= 0.5 * result.Original.Macs, $"{result.Pruned.Macs} MACs is over half of {result.Original.Macs}");
        Assert.True(result.Candidates.Count(c => c.Stage == CandidateStage.AipRecovered) >= 2, "fewer than two aip steps");
        // The structure is the budget's uniform one, whatever the backend; the exported model is what was scored.
        Assert.Equal(engine.Widths.Select(w => w.PrunedWidth), result.Widths.Select(w => w.PrunedWidth));
        var validation = RunData.Split(data, Aip(EngineBackend.Instance)).Validation;
        var rescored = Evaluation.Accuracy(Network.Build(result.Model), validation.GetBatches(0));
        Assert.Equal(result.Pruned.ValidationAccuracy!.Value, rescored.Top1, 2);
        Assert.InRange(result.Pruned.ValidationAccuracy!.Value, engine.Pruned.ValidationAccuracy!.Value - 0.05, engine.Pruned.ValidationAccuracy!.Value + 0.05);
    }
}
