using Acp.Data;
using Acp.Pruning.Pipeline;
using Acp.Pruning.Search;
using Xunit.Abstractions;

namespace Acp.Pruning.Tests.Pipeline;

/// <summary>
/// Issue 19: the memory a whole prune on an image folder holds does not grow with the folder. The same run (same
/// schedule, same validation, calibration and re-fit sizes) on a folder and on one with twice the images: the largest
/// live managed memory, sampled after a full collection at every progress report, stays within 10 %.
/// </summary>
/// <remarks>
/// Live memory after a full collection, not the resident set: the resident peak of a prune is set by when the
/// collector runs (two runs of the same 224-px prune peaked at 4.4 and 5.2 GB, docs/benchmarks.md), so it cannot show
/// a 10 % growth; what is still reachable can. The folders are Fashion-MNIST written by
/// tools/make_fashion_image_folder.py at 28 px (the shipped-size CNN keeps this fast); every path that could hold the
/// images (the validation split, the calibration and re-fit images, the evaluation batches) is the one a 224-px run
/// takes.
/// Runs alone: the managed heap is the process's, so a test allocating beside it would count (a CI run measured
/// +23 % that way).
/// </remarks>
[Collection(nameof(MeasuresProcessMemory))]
public sealed class ImageFolderPruneMemoryTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("acp-prune-memory-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Twice_the_images_hold_the_same_live_memory_within_ten_percent()
    {
        const int smallPerClass = 150, largePerClass = 300;
        var smallFolder = WriteFolder("n", smallPerClass);
        var largeFolder = WriteFolder("2n", largePerClass);
        PeakLiveBytes(smallFolder); // the first run also holds what stays once loaded (JIT, static tables): not the folder's
        var small = PeakLiveBytes(smallFolder);
        var large = PeakLiveBytes(largeFolder);
        output.WriteLine($"peak live managed memory above the baseline: {small:N0} bytes with {smallPerClass * 10} images, {large:N0} with {largePerClass * 10} ({large / (double)small:0.000}×)");

        // The check must be able to fail: the extra images, held decoded as floats, are more than the 10 % allowed.
        var extraDecodedBytes = (largePerClass - smallPerClass) * 10L * 28 * 28 * sizeof(float);
        Assert.True(extraDecodedBytes > small * 0.10, $"the extra images ({extraDecodedBytes:N0} bytes decoded) are within the 10 % tolerance of {small:N0}: the test cannot see them");
        Assert.True(large <= small * 1.10, $"peak live memory {small / 1e6:0.00} MB with {smallPerClass * 10} images, {large / 1e6:0.00} MB with {largePerClass * 10} (+{(large / (double)small - 1) * 100:0.0} %)");
    }

    private static long PeakLiveBytes(string folder)
    {
        var training = ImageFolderDataset.Open(folder, DatasetSplit.Train, new ImageFolderOptions { Channels = 1, Height = 28, Width = 28 });
        var options = PipelineTests.Small(PruningStrategy.Acp) with
        {
            ValidationImages = 100, FitnessImages = 100, CalibrationImages = 50, RecalibrationImages = 64, BatchSize = 32,
            Swarm = new PsoOptions { Particles = 2, Cycles = 1 }, Finalists = 1, FinalistSteps = 3, Epochs = 1,
        };
        var model = TrainedSmallCnn.Model();
        var baseline = GC.GetTotalMemory(forceFullCollection: true);
        long peak = 0;
        var progress = new Sample(() => peak = Math.Max(peak, GC.GetTotalMemory(forceFullCollection: true) - baseline));
        PruningPipeline.Run(model, training, options, progress);
        return peak;
    }

    /// <summary>tools/make_fashion_image_folder.py's folder of 28-px PNGs, <paramref name="perClass"/> training images per class.</summary>
    private string WriteFolder(string name, int perClass)
    {
        var folder = Path.Combine(_dir, name);
        return FashionImageFolder.Write(folder, perClass, testPerClass: 1, size: 28);
    }

    private sealed class Sample(Action sample) : IProgress<PruningProgress>
    {
        public void Report(PruningProgress value) => sample();
    }
}

/// <summary>Runs alone (no other test allocating in the process), so the managed heap it measures is its own.</summary>
[CollectionDefinition(nameof(MeasuresProcessMemory), DisableParallelization = true)]
public sealed class MeasuresProcessMemory;
