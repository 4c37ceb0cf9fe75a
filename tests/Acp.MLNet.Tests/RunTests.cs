using Acp.Engine.Data;
using Acp.MLNet.Tests.Support;
using Acp.Pruning.Pipeline;
using Acp.Pruning.Search;

namespace Acp.MLNet.Tests;

/// <summary>Whole runs on a smaller slice than the end-to-end run: determinism and cancellation.</summary>
public sealed class RunTests
{
    private static (AcpContext Context, ImageDataView Train, PruneChannelsOptions Options) Setup(int? seed)
    {
        var context = new AcpContext(seed);
        var train = context.Data.LoadFromDataset(Acp.Pruning.Tests.Pipeline.TrainedSmallCnn.Data());
        train = context.Data.TakeRows(train, 2500);
        var options = Scenario.Small("unused");
        options.ModelPath = null;
        options.Model = Scenario.ModelWithMetadata();
        options.ValidationImages = 500;
        options.FitnessImages = 250;
        options.CalibrationImages = 50;
        options.RecalibrationImages = 128;
        options.Swarm = new PsoOptions { Particles = 3, Cycles = 1, MaxVelocityFraction = 0.25 };
        return (context, train, options);
    }

    private static byte[] SavedBytes(int seed, TempFolder folder)
    {
        var (context, train, options) = Setup(seed);
        using var transformer = context.Transforms.PruneChannels(options).Fit(train);
        var path = folder.File($"seed{seed}-{Guid.NewGuid():N}.onnx");
        transformer.Save(path);
        return File.ReadAllBytes(path);
    }

    [Fact]
    public void The_same_context_seed_saves_identical_bytes_and_another_seed_does_not()
    {
        using var folder = new TempFolder();
        var first = SavedBytes(11, folder);
        var second = SavedBytes(11, folder);
        var other = SavedBytes(12, folder);
        Assert.Equal(first, second);
        Assert.NotEqual(first, other);
    }

    [Fact]
    public void Cancelling_during_the_search_stops_Fit_with_OperationCanceledException()
    {
        var (context, train, options) = Setup(1);
        using var cancellation = new CancellationTokenSource();
        var stages = new List<PruningStage>();
        options.Progress = new SynchronousProgress<PruningProgress>(p =>
        {
            stages.Add(p.Stage);
            if (p.Stage == PruningStage.Searching) cancellation.Cancel();
        });
        var estimator = context.Transforms.PruneChannels(options);
        Assert.ThrowsAny<OperationCanceledException>(() => estimator.Fit(train, cancellation.Token));
        Assert.Contains(PruningStage.Searching, stages);
        Assert.DoesNotContain(PruningStage.FineTuning, stages);
    }
}
