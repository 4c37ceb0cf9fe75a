using System.Diagnostics;
using Acp.Engine.Backends;
using Acp.Data;
using Acp.Engine.Execution;
using Acp.Engine.Training;
using Acp.Onnx.Analysis;
using Acp.Onnx.Channels;
using Acp.Pruning.Pipeline;
using Acp.Pruning.Search;
using Acp.Pruning.Tests.Pipeline;
using Xunit.Abstractions;

namespace Acp.TorchSharp.Tests;

/// <summary>The TorchSharp backend behind the engine layer's seam, against the engine behind the same seam.</summary>
public sealed class BackendSeamTests(ITestOutputHelper log)
{
    /// <summary>The pipeline tests' small settings (tests/Acp.Pruning.Tests/Pipeline/PipelineTests.cs, <c>Small</c>).</summary>
    internal static PruningOptions Small(IComputeBackend backend) => new()
    {
        Strategy = PruningStrategy.Acp,
        TargetFlops = 0.5,
        Normalization = ChannelNormalization.FashionMnist,
        ValidationImages = 1000,
        FitnessImages = 500,
        CalibrationImages = 100,
        RecalibrationImages = 256,
        Swarm = new PsoOptions { Particles = 4, Cycles = 2, MaxVelocityFraction = 0.25 },
        Epochs = 1,
        BatchSize = 64,
        Seed = 3,
        RoundTo = 2,
        Backend = backend,
    };

    [Fact]
    public void A_structure_search_and_fine_tune_on_torchsharp_meets_the_budget_and_matches_the_engines_accuracy()
    {
        var (engine, engineTime) = Timed(() => PruningPipeline.Run(TrainedSmallCnn.Model(), TrainedSmallCnn.Data(), Small(EngineBackend.Instance)));
        var (torch, torchTime) = Timed(() => PruningPipeline.Run(TrainedSmallCnn.Model(), TrainedSmallCnn.Data(), Small(new TorchSharpBackend(Acp.Onnx.ComputeDevice.Cpu))));

        string Line(string name, PruningResult r, TimeSpan t) =>
            $"{name}: widths {string.Join(",", r.Widths.Select(w => w.PrunedWidth))}, MACs {r.Pruned.Macs}/{r.Original.Macs}, validation " +
            $"{r.Original.ValidationAccuracy:P2} → {r.PrunedBeforeFineTuning.ValidationAccuracy:P2} → {r.Pruned.ValidationAccuracy:P2}, {r.Candidates.Count} candidates, {t.TotalSeconds:0.0} s";
        log.WriteLine(Line("engine", engine, engineTime));
        log.WriteLine(Line("torchsharp", torch, torchTime));

        // Same model, same data: the original's accuracy is the same number on both backends.
        Assert.Equal(engine.Original.ValidationAccuracy, torch.Original.ValidationAccuracy);
        Assert.Equal(engine.Candidates.Count, torch.Candidates.Count);
        Assert.True(torch.Pruned.Macs <= 0.5 * torch.Original.Macs, $"{torch.Pruned.Macs} MACs is over half of {torch.Original.Macs}");
        Assert.Contains(torch.Widths, w => w.PrunedWidth < w.OriginalWidth);
        // The exported model is what the TorchSharp network scored: the engine gives the same validation accuracy.
        var data = RunData.Split(TrainedSmallCnn.Data(), Small(EngineBackend.Instance));
        var rescored = Evaluation.Accuracy(Network.Build(torch.Model), data.Validation.GetBatches(0));
        Assert.Equal(torch.Pruned.ValidationAccuracy!.Value, rescored.Top1, 2);
        // Float noise (different kernels) may pick another structure and moves SGD a little: within the spread of seeds.
        Assert.InRange(torch.Pruned.ValidationAccuracy!.Value, engine.Pruned.ValidationAccuracy!.Value - 0.03, engine.Pruned.ValidationAccuracy!.Value + 0.03);
    }

    [Fact]
    public void Channel_masks_zero_the_masked_channels_as_the_engines_do()
    {
        var model = TrainedSmallCnn.Model();
        var value = ChannelAnalysis.Run(model).PrunableGroups[0].Producers[0].Output;
        using var engine = EngineBackend.Instance.Build(model, 0);
        using var torch = new TorchSharpBackend().Build(model, 0);
        var loader = new BatchLoader(TrainedSmallCnn.Data(), new BatchLoaderOptions { BatchSize = 16, Normalization = ChannelNormalization.FashionMnist });
        var batch = loader.GetBatches(0).First();
        var channels = Capture(engine, value, batch).Shape[1];
        var keep = Enumerable.Range(0, channels).Select(c => c % 3 != 0).ToArray();
        engine.SetChannelMask(value, keep);
        torch.SetChannelMask(value, keep);

        var engineMap = Capture(engine, value, batch);
        var torchMap = Capture(torch, value, batch);
        var engineOut = engine.Forward(batch.Shape, batch.ImageSpan).Data.ToArray();
        var torchOut = torch.Forward(batch.Shape, batch.ImageSpan).Data;

        var perChannel = torchMap.Data.Length / batch.Count / channels;
        for (var i = 0; i < torchMap.Data.Length; i++)
        {
            if (!keep[i / perChannel % channels]) Assert.Equal(0f, torchMap.Data[i]);
            Assert.Equal(engineMap.Data[i], torchMap.Data[i], 1e-4f);
        }
        for (var i = 0; i < engineOut.Length; i++) Assert.Equal(engineOut[i], torchOut[i], 1e-3f);
    }

    private static Acp.Engine.Tensors.Tensor Capture(ITrainableNetwork network, string value, Batch batch)
    {
        Acp.Engine.Tensors.Tensor? seen = null;
        using (network.Capture(value, t => seen = new Acp.Engine.Tensors.Tensor(t.Shape.ToArray(), t.Data.ToArray())))
        {
            network.Forward(batch.Shape, batch.ImageSpan);
        }
        return seen!;
    }

    private static (T Result, TimeSpan Time) Timed<T>(Func<T> run)
    {
        var clock = Stopwatch.StartNew();
        var result = run();
        return (result, clock.Elapsed);
    }
}
