using Acp.Data;
using Acp.Pruning.Pipeline;

namespace Acp.Pruning.Tests.Pipeline;

/// <summary>Same seed, same bytes; a run stopped at any stage resumes to the bytes of an uninterrupted run.</summary>
public sealed class ResumeTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("acp-resume-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static PruningOptions Options(string? runDirectory = null, bool resume = false) =>
        PipelineTests.Small(PruningStrategy.Acp) with { Epochs = 2, RunDirectory = runDirectory, Resume = resume };

    private static readonly Lazy<byte[]> Uninterrupted = new(() =>
        PruningPipeline.Run(TrainedSmallCnn.Model(), TrainedSmallCnn.Data(), Options()).Model.ToBytes());

    [Fact]
    public void The_same_seed_gives_identical_model_bytes()
    {
        var again = PruningPipeline.Run(TrainedSmallCnn.Model(), TrainedSmallCnn.Data(), Options(Path.Combine(_dir, "run"))).Model.ToBytes();
        Assert.Equal(Uninterrupted.Value, again);
    }

    [Theory]
    [InlineData(PruningStage.Calibrating, 0)]
    [InlineData(PruningStage.Searching, 2)]
    [InlineData(PruningStage.Finalists, 1)]
    [InlineData(PruningStage.FineTuning, 5)]
    [InlineData(PruningStage.FineTuning, 80)]
    [InlineData(PruningStage.Exporting, 0)]
    public void A_run_stopped_during_a_stage_resumes_to_the_same_model(PruningStage stage, long after)
    {
        var run = Path.Combine(_dir, "run");
        using var stop = new CancellationTokenSource();
        var reports = new List<PruningProgress>();
        var progress = new Callback(p =>
        {
            reports.Add(p);
            if (p.Stage == stage && p.Completed >= after) stop.Cancel();
        });
        Assert.ThrowsAny<OperationCanceledException>(() =>
            PruningPipeline.Run(TrainedSmallCnn.Model(), TrainedSmallCnn.Data(), Options(run), progress, stop.Token));
        Assert.Contains(reports, r => r.Stage == stage);

        var resumed = PruningPipeline.Run(TrainedSmallCnn.Model(), TrainedSmallCnn.Data(), Options(run, resume: true));
        Assert.Equal(Uninterrupted.Value, resumed.Model.ToBytes());
        if (stage >= PruningStage.FineTuning)
        {
            // Nothing of the search was redone: every evaluation came from the log.
            Assert.NotEmpty(resumed.Finalists);
            Assert.Equal(resumed.Candidates.Select(c => string.Join(",", c.Widths)).Distinct().Count() + resumed.Finalists.Count,
                File.ReadAllLines(Path.Combine(run, "evaluations.jsonl")).Length);
        }
    }

    [Theory]
    [InlineData(PruningStrategy.Ghfp)]
    [InlineData(PruningStrategy.Asrfp)]
    public void Soft_pruning_stopped_in_its_second_epoch_resumes_to_the_same_model(PruningStrategy strategy)
    {
        var options = PipelineTests.Small(strategy) with { Epochs = 2 };
        var uninterrupted = PruningPipeline.Run(TrainedSmallCnn.Model(), TrainedSmallCnn.Data(), options).Model.ToBytes();
        var run = Path.Combine(_dir, "run");
        using var stop = new CancellationTokenSource();
        // Past the first epoch's checkpoint (and its masks), a few batches into the second.
        var progress = new Callback(p => { if (p.Stage == PruningStage.FineTuning && p.Epoch == 1 && p.Completed >= p.Total / 2 + 5) stop.Cancel(); });
        Assert.ThrowsAny<OperationCanceledException>(() =>
            PruningPipeline.Run(TrainedSmallCnn.Model(), TrainedSmallCnn.Data(), options with { RunDirectory = run }, progress, stop.Token));

        var resumed = PruningPipeline.Run(TrainedSmallCnn.Model(), TrainedSmallCnn.Data(), options with { RunDirectory = run, Resume = true });
        Assert.Equal(uninterrupted, resumed.Model.ToBytes());
    }

    [Fact]
    public void A_log_line_cut_short_by_a_kill_is_ignored_and_re_evaluated()
    {
        var run = Path.Combine(_dir, "run");
        using var stop = new CancellationTokenSource();
        var progress = new Callback(p => { if (p.Stage == PruningStage.Searching && p.Completed >= 2) stop.Cancel(); });
        Assert.ThrowsAny<OperationCanceledException>(() =>
            PruningPipeline.Run(TrainedSmallCnn.Model(), TrainedSmallCnn.Data(), Options(run), progress, stop.Token));
        var log = Path.Combine(run, "evaluations.jsonl");
        var text = File.ReadAllText(log);
        File.WriteAllText(log, text[..(text.Length - 25)]);

        var resumed = PruningPipeline.Run(TrainedSmallCnn.Model(), TrainedSmallCnn.Data(), Options(run, resume: true));
        Assert.Equal(Uninterrupted.Value, resumed.Model.ToBytes());
    }

    [Fact]
    public void A_run_folder_is_never_overwritten_or_resumed_with_other_options()
    {
        var run = Path.Combine(_dir, "run");
        using var stop = new CancellationTokenSource();
        // Stopped after the first scored candidate (the search's start is reported before any): the folder holds a run.
        var progress = new Callback(p => { if (p.Stage == PruningStage.Searching && p.Completed >= 1) stop.Cancel(); });
        Assert.ThrowsAny<OperationCanceledException>(() =>
            PruningPipeline.Run(TrainedSmallCnn.Model(), TrainedSmallCnn.Data(), Options(run), progress, stop.Token));

        var fresh = Assert.Throws<IOException>(() => PruningPipeline.Run(TrainedSmallCnn.Model(), TrainedSmallCnn.Data(), Options(run)));
        Assert.Contains("--resume", fresh.Message);
        var other = Assert.Throws<IOException>(() =>
            PruningPipeline.Run(TrainedSmallCnn.Model(), TrainedSmallCnn.Data(), Options(run, resume: true) with { Seed = 4 }));
        Assert.Contains("different", other.Message);
    }

    [Fact]
    public void Validation_images_are_never_read_while_fine_tuning()
    {
        var spy = new ReadSpy(TrainedSmallCnn.Data());
        var options = Options() with { ValidationFromTail = true, Epochs = 1 };
        var validationStart = spy.Count - options.ValidationImages;
        // Training starts with the first epoch's report: the build before it scores the cut on the validation split.
        var progress = new Callback(p => spy.FineTuning = p.Stage == PruningStage.FineTuning && p.Epoch is not null);
        PruningPipeline.Run(TrainedSmallCnn.Model(), spy, options, progress);
        Assert.True(spy.ReadWhileFineTuning.Count > 1000);
        Assert.DoesNotContain(spy.ReadWhileFineTuning, i => i >= validationStart);
        Assert.Contains(spy.ReadOutsideFineTuning, i => i >= validationStart);
    }

    private sealed class Callback(Action<PruningProgress> report) : IProgress<PruningProgress>
    {
        public void Report(PruningProgress value) => report(value);
    }

    private sealed class ReadSpy(IImageDataset inner) : IImageDataset
    {
        public bool FineTuning { get; set; }
        public HashSet<int> ReadWhileFineTuning { get; } = [];
        public HashSet<int> ReadOutsideFineTuning { get; } = [];
        public int Count => inner.Count;
        public ImageShape ImageShape => inner.ImageShape;
        public int ClassCount => inner.ClassCount;

        public void ReadImage(int index, Span<byte> destination)
        {
            lock (this) (FineTuning ? ReadWhileFineTuning : ReadOutsideFineTuning).Add(index);
            inner.ReadImage(index, destination);
        }

        public int Label(int index) => inner.Label(index);
    }
}
