using Acp.Data;
using Acp.Engine.Execution;
using Acp.Onnx.Channels;
using Acp.Pruning.Pipeline;

namespace Acp.Pruning.Tests.Pipeline;

/// <summary>The short distilled fine-tune every acp candidate gets before it is scored.</summary>
public sealed class FitnessTuningTests
{
    private static PruningOptions Options() => PipelineTests.Small(PruningStrategy.Acp) with { FitnessSteps = 20 };

    [Fact]
    public void A_deep_cut_candidate_scores_higher_after_the_steps_and_the_same_on_every_call()
    {
        var model = TrainedSmallCnn.Model();
        var options = Options();
        var data = RunData.Split(TrainedSmallCnn.Data(), options);
        var analysis = ChannelAnalysis.Run(model);
        var groups = analysis.PrunableGroups;
        var builder = new CandidateBuilder(analysis, ChannelRanking.L1(analysis, groups), data.Recalibration, options.Seed);
        var tuner = new FitnessTuner(Network.Build(model), data.FitnessTuning, options, default);
        // Half of every group: inherited weights with re-fitted statistics lose about 8 points of accuracy. (A quarter
        // keeps only channels that ReLU never opens in this small CNN, which no gradient step can revive.)
        var (pruned, _) = builder.Prune(groups.Select(g => g.Width / 2).ToArray());
        var recalibratedOnly = CandidateBuilder.Score(builder.Recalibrated(pruned, default), data.Fitness, default);
        var tuned = CandidateBuilder.Score(builder.Tuned(pruned, tuner, default), data.Fitness, default);
        var again = CandidateBuilder.Score(builder.Tuned(pruned, tuner, default), data.Fitness, default);

        Assert.Equal(20, tuner.Steps);
        Assert.True(tuned.Correct >= recalibratedOnly.Correct + tuned.Images / 50,
            $"tuned {tuned.Correct} against re-fitted only {recalibratedOnly.Correct} of {tuned.Images}");
        Assert.Equal(tuned, again);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void The_tuning_batches_never_hold_a_validation_image(bool validationFromTail)
    {
        var spy = new ReadLog(TrainedSmallCnn.Data());
        var data = RunData.Split(spy, Options() with { ValidationFromTail = validationFromTail });

        foreach (var _ in data.Validation.GetBatches(0)) { }
        var validation = spy.TakeReads();
        foreach (var _ in data.FitnessTuning.GetBatches(0)) { }
        var tuning = spy.TakeReads();
        foreach (var _ in data.FinalistTuning.GetBatches(0)) { }
        var finalistTuning = spy.TakeReads();

        Assert.Equal(20 * 64, tuning.Count);
        Assert.Equal(50 * 64, finalistTuning.Count);
        Assert.Equal(1000, validation.Count);
        Assert.Empty(tuning.Intersect(validation));
        Assert.Empty(finalistTuning.Intersect(validation));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(10)]
    public void The_search_scores_candidates_after_the_configured_steps(int steps)
    {
        // Without finalists, so that the swarm's best is the chosen structure.
        var options = PipelineTests.Small(PruningStrategy.Acp, targetMacs: 0.4) with { Epochs = 0, FitnessSteps = steps, Finalists = 0 };
        var result = PruningPipeline.Run(TrainedSmallCnn.Model(), TrainedSmallCnn.Data(), options);

        // The logged fitness of the chosen structure is reproduced from its keep-sets by the same tuning (or none).
        var original = TrainedSmallCnn.Model();
        var data = RunData.Split(TrainedSmallCnn.Data(), options);
        var analysis = ChannelAnalysis.Run(original);
        var pruned = ChannelSurgery.Apply(analysis, result.Keep).Model;
        var builder = new CandidateBuilder(analysis, ChannelRanking.L1(analysis, analysis.PrunableGroups), data.Recalibration, options.Seed);
        var candidate = steps == 0
            ? builder.Recalibrated(pruned, default)
            : builder.Tuned(pruned, new FitnessTuner(Network.Build(original, options.Seed), data.FitnessTuning, options, default), default);
        var expected = CandidateBuilder.Score(candidate, data.Fitness, default);

        var chosen = result.Widths.Select(w => w.PrunedWidth).ToArray();
        var logged = result.Candidates.First(c => c.Widths.SequenceEqual(chosen));
        Assert.Equal(result.Candidates.Max(c => c.Accuracy), logged.Accuracy);
        Assert.Equal(expected.Correct, logged.Correct);
        // And the steps changed what was scored: the untuned candidate scores differently.
        var untuned = CandidateBuilder.Score(builder.Recalibrated(pruned, default), data.Fitness, default);
        Assert.Equal(steps == 0, untuned.Correct == logged.Correct);
    }

    [Fact]
    public void Negative_steps_are_refused() =>
        Assert.Throws<ArgumentException>(() => (Options() with { FitnessSteps = -1 }).Validate());

    private sealed class ReadLog(IImageDataset inner) : IImageDataset
    {
        private HashSet<int> _reads = [];
        public int Count => inner.Count;
        public ImageShape ImageShape => inner.ImageShape;
        public int ClassCount => inner.ClassCount;

        public HashSet<int> TakeReads()
        {
            lock (this)
            {
                var reads = _reads;
                _reads = [];
                return reads;
            }
        }

        public void ReadImage(int index, Span<byte> destination)
        {
            lock (this) _reads.Add(index);
            inner.ReadImage(index, destination);
        }

        public int Label(int index) => inner.Label(index);
    }
}
