using Acp.Pruning.Clustering;
using static Acp.Pruning.Tests.Clustering.ClusteringTestData;

namespace Acp.Pruning.Tests.Clustering;

/// <summary>ε bisection: meets the target, is minimal within the tolerance, and moves monotonically with the target.</summary>
public sealed class EpsilonSearchTests
{
    private static readonly double[][] Layers =
    [
        SyntheticLayer(1, 16, 9),
        SyntheticLayer(2, 32, 16),
        SyntheticLayer(3, 24, 4),
    ];

    private static readonly int TotalChannels = 16 + 32 + 24;

    /// <summary>Fraction of channels kept: a monotone stand-in for a FLOPs ratio.</summary>
    private static double KeptFraction(IReadOnlyList<int> widths) => (double)widths.Sum() / TotalChannels;

    private static double CostAt(double eps) =>
        KeptFraction(Layers.Select((d, l) => Dbscan.Cluster(d, (int)Math.Sqrt(d.Length), eps, 5).PreliminaryWidth).ToArray());

    [Theory]
    [InlineData(0.8)]
    [InlineData(0.5)]
    [InlineData(0.2)]
    public void Meets_the_target_with_the_smallest_eps(double target)
    {
        var result = EpsilonSearch.ForTargetWidth(Layers, KeptFraction, target);

        Assert.True(result.Epsilon > 0);
        Assert.True(result.Cost <= target);
        Assert.Equal(CostAt(result.Epsilon), result.Cost);
        Assert.Equal(result.Widths, result.Clusterings.Select(c => c.PreliminaryWidth));
        // 30 halvings of [0, 2] bracket the threshold to 2^-29 ≈ 1.9e-9; a step of 1e-8 below must miss.
        Assert.True(CostAt(result.Epsilon - 1e-8) > target);
    }

    [Fact]
    public void Eps_grows_as_the_target_tightens()
    {
        double[] targets = [0.95, 0.8, 0.65, 0.5, 0.35, 0.2, 0.1];
        var results = targets.Select(t => EpsilonSearch.ForTargetWidth(Layers, KeptFraction, t)).ToArray();

        for (var i = 1; i < results.Length; i++)
        {
            Assert.True(results[i].Epsilon >= results[i - 1].Epsilon);
            Assert.True(results[i].Widths.Sum() <= results[i - 1].Widths.Sum());
        }
    }

    [Fact]
    public void Widths_are_non_increasing_in_eps()
    {
        int[]? previous = null;
        for (var eps = 0.0; eps <= 2; eps += 0.01)
        {
            var widths = Layers.Select(d => Dbscan.Cluster(d, (int)Math.Sqrt(d.Length), eps, 5).PreliminaryWidth).ToArray();
            if (previous is not null)
                for (var l = 0; l < widths.Length; l++) Assert.True(widths[l] <= previous[l]);
            previous = widths;
        }
    }

    [Fact]
    public void A_target_already_met_at_zero_returns_zero()
    {
        var result = EpsilonSearch.ForTargetWidth(Layers, KeptFraction, 1.0);

        Assert.Equal(0, result.Epsilon);
        Assert.Equal(1.0, result.Cost);
    }

    [Fact]
    public void An_unreachable_target_throws()
    {
        // At ε = 2 each layer collapses to one cluster: 3 of 72 channels, above a target of 1%.
        var error = Assert.Throws<InvalidOperationException>(() => EpsilonSearch.ForTargetWidth(Layers, KeptFraction, 0.01));
        Assert.Contains("cannot be met", error.Message);
    }

    [Fact]
    public void Non_square_matrices_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => EpsilonSearch.ForTargetWidth([new double[5]], KeptFraction, 0.5));
    }
}
