using Acp.Engine.Execution;
using Acp.Onnx.Analysis;
using Acp.Onnx.Channels;
using Acp.Pruning.Pipeline;

namespace Acp.Pruning.Tests.Pipeline;

/// <summary>The finalists stage after the swarm, and the capacity floor of the swarm.</summary>
public sealed class FinalistsTests
{
    private static PruningOptions Options() =>
        PipelineTests.Small(PruningStrategy.Acp, targetMacs: 0.4) with { Epochs = 0, Finalists = 2, FinalistSteps = 5 };

    private static readonly Lazy<(PruningOptions Options, PruningResult Result)> WithFinalists = new(() =>
        (Options(), PruningPipeline.Run(TrainedSmallCnn.Model(), TrainedSmallCnn.Data(), Options())));

    private static int[] UniformWidths(PruningOptions options)
    {
        var analysis = ChannelAnalysis.Run(TrainedSmallCnn.Model());
        return new Budget(new CostPredictor(analysis), analysis.PrunableGroups, options.TargetFlops, options.TargetParams).Uniform(options.RoundTo).Widths;
    }

    private static int[] Chosen(PruningResult result) => result.Widths.Select(w => w.PrunedWidth).ToArray();

    [Fact]
    public void The_finalists_are_the_swarms_best_distinct_structures_then_the_uniform_one_and_the_best_of_them_is_kept()
    {
        var (options, result) = WithFinalists.Value;
        var expected = result.Candidates.OrderByDescending(c => c.Accuracy).Select(c => string.Join(",", c.Widths)).Distinct().Take(2).ToList();
        var uniform = string.Join(",", UniformWidths(options));
        if (!expected.Contains(uniform)) expected.Add(uniform);

        Assert.Equal(expected, result.Finalists.Select(f => string.Join(",", f.Widths)));
        Assert.All(result.Finalists, f => Assert.Equal(CandidateStage.Finalist, f.Stage));
        Assert.All(result.Finalists, f => Assert.Equal(options.ValidationImages, f.Images));
        Assert.All(result.Candidates, c => Assert.Equal(CandidateStage.Swarm, c.Stage));
        var best = result.Finalists.First(f => f.Correct == result.Finalists.Max(g => g.Correct));
        Assert.Equal(best.Widths, Chosen(result));
    }

    [Fact]
    public void A_finalists_score_is_its_accuracy_on_the_whole_validation_split_after_the_distilled_steps()
    {
        var (options, result) = WithFinalists.Value;
        var original = TrainedSmallCnn.Model();
        var data = RunData.Split(TrainedSmallCnn.Data(), options);
        var analysis = ChannelAnalysis.Run(original);
        var pruned = ChannelSurgery.Apply(analysis, result.Keep).Model;
        var builder = new CandidateBuilder(analysis, ChannelRanking.L1(analysis, analysis.PrunableGroups), data.Recalibration, options.Seed);
        var tuner = new FitnessTuner(Network.Build(original, options.Seed), data.FinalistTuning, options, default);

        var tuned = CandidateBuilder.Score(builder.Tuned(pruned, tuner, default), data.Validation, default);
        var untuned = CandidateBuilder.Score(builder.Recalibrated(pruned, default), data.Validation, default);

        Assert.Equal(5, tuner.Steps);
        var logged = result.Finalists.Single(f => f.Widths.SequenceEqual(Chosen(result)));
        Assert.Equal(tuned.Correct, logged.Correct);
        Assert.NotEqual(untuned.Correct, logged.Correct);
    }

    [Fact]
    public void Without_finalists_the_swarms_best_is_kept()
    {
        var result = PruningPipeline.Run(TrainedSmallCnn.Model(), TrainedSmallCnn.Data(), Options() with { Finalists = 0 });
        Assert.Empty(result.Finalists);
        Assert.Equal(result.Candidates.First(c => c.Accuracy == result.Candidates.Max(d => d.Accuracy)).Widths, Chosen(result));
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(0.75)]
    public void With_a_capacity_floor_no_candidate_has_fewer_parameters_than_that_fraction_of_the_uniform_structure_which_starts_the_swarm(double fraction)
    {
        var options = Options() with { Finalists = 0, CapacityFloor = fraction };
        var floored = PruningPipeline.Run(TrainedSmallCnn.Model(), TrainedSmallCnn.Data(), options);
        var free = PruningPipeline.Run(TrainedSmallCnn.Model(), TrainedSmallCnn.Data(), options with { CapacityFloor = 0 });
        var uniform = UniformWidths(options);
        var floor = (long)Math.Ceiling(floored.Candidates.Single(c => c.Widths.SequenceEqual(uniform)).Params * fraction);

        Assert.All(floored.Candidates, c => Assert.True(c.Params >= floor, $"{string.Join(",", c.Widths)} has {c.Params} parameters < {floor}"));
        Assert.True(floored.Pruned.Params >= floor);
        // Not vacuous: the same search without the floor scores structures below it.
        Assert.Contains(free.Candidates, c => c.Params < floor);
        // A fraction below 1 is a looser floor, not uniform's: the swarm scores structures between the two.
        var uniformParams = floored.Candidates.Single(c => c.Widths.SequenceEqual(uniform)).Params;
        if (fraction < 1) Assert.Contains(floored.Candidates, c => c.Params < uniformParams);
    }

    [Fact]
    public void The_capacity_repair_sheds_the_MACs_that_cost_the_fewest_parameters_as_surgery_measures_them()
    {
        var model = TrainedSmallCnn.Model();
        var analysis = ChannelAnalysis.Run(model);
        var groups = analysis.PrunableGroups;
        var budget = new Budget(new CostPredictor(analysis), groups, 0.5, null);
        var upper = groups.Select(g => g.Width).ToArray();
        var random = new Random(5);
        for (var trial = 0; trial < 12; trial++)
        {
            var widths = upper.Select(u => 2 * random.Next(1, u / 2 + 1)).ToArray();
            var pick = budget.CheapestMacs(widths, upper, 2);

            // Independently: the real cost of each one-step-narrower model, by surgery and ModelCost.
            var here = Measured(widths);
            var ratios = Enumerable.Range(0, widths.Length).Select(d =>
            {
                if (widths[d] <= 2) return double.NegativeInfinity;
                var narrower = (int[])widths.Clone();
                narrower[d] -= 2;
                var there = Measured(narrower);
                return (double)(here.TotalMacs - there.TotalMacs) / Math.Max(1, here.TotalParams - there.TotalParams);
            }).ToArray();
            if (ratios.All(double.IsNegativeInfinity)) Assert.Equal(-1, pick);
            else Assert.Equal(Array.IndexOf(ratios, ratios.Max()), pick);
        }

        ModelCost Measured(int[] widths)
        {
            var keep = groups.Select((g, d) => (g.Id, Keep: Enumerable.Range(0, widths[d]).ToArray())).ToDictionary(p => p.Id, p => p.Keep);
            var pruned = ChannelSurgery.Apply(analysis, keep).Model;
            return ModelCost.Compute(pruned, ShapeInference.Run(pruned));
        }
    }

    [Fact]
    public void Finalist_and_floor_settings_are_validated()
    {
        Assert.Throws<ArgumentException>(() => (Options() with { Finalists = -1 }).Validate());
        Assert.Throws<ArgumentException>(() => (Options() with { FinalistSteps = 0 }).Validate());
        Assert.Throws<ArgumentException>(() => (Options() with { CapacityFloor = -0.1 }).Validate());
        Assert.Throws<ArgumentException>(() => (Options() with { CapacityFloor = 1.5 }).Validate());
        Assert.Throws<ArgumentException>(() => (Options() with { CapacityFloor = double.NaN }).Validate());
        (Options() with { CapacityFloor = 0 }).Validate();
        (Options() with { CapacityFloor = 1 }).Validate();
    }
}
