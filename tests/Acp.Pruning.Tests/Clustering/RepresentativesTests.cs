using Acp.Pruning.Clustering;

namespace Acp.Pruning.Tests.Clustering;

/// <summary>One channel per cluster, nearest the cluster mean, plus every noise channel.</summary>
public sealed class RepresentativesTests
{
    [Fact]
    public void Picks_the_member_nearest_the_mean_and_keeps_noise()
    {
        // Rows 0..2 tilt by +0.10, 0, −0.12: their mean tilts by −0.0067, nearest to row 1. Distances: d(0,1) ≈ 0.0050,
        // d(1,2) ≈ 0.0071, d(0,2) ≈ 0.024, so with ε 0.01 and minPts 3 only row 1 is core and rows 0, 2 are its
        // borders. Row 3 points elsewhere: noise. Row 1 sits in the middle index so "lowest index" would be wrong.
        float[] rows = [1, 0.10f, 1, 0, 1, -0.12f, 0, 1];
        var clustering = Dbscan.Cluster(CosineDistance.Compute(rows, 4, 2), 4, eps: 0.01, minPts: 3);
        Assert.Equal([0, 0, 0, -1], clustering.Labels);

        var keep = Representatives.Select(rows, 4, 2, clustering);

        Assert.Equal([1, 3], keep);
        Assert.Equal(clustering.PreliminaryWidth, keep.Length);
    }

    [Fact]
    public void Ties_go_to_the_lowest_index_and_output_is_sorted()
    {
        // Index 0 seeds cluster 0 = {0, 1, 5}, index 2 seeds cluster 1 = {2, 3, 4}; members are identical rows, so
        // every member ties and the lowest index wins. Row 6 (45° off) is noise. Representatives: 0, 2 and noise 6.
        float[] rows = [0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 1];
        var clustering = Dbscan.Cluster(CosineDistance.Compute(rows, 7, 2), 7, eps: 0.001, minPts: 3);
        Assert.Equal([0, 0, 1, 1, 1, 0, -1], clustering.Labels);

        Assert.Equal([0, 2, 6], Representatives.Select(rows, 7, 2, clustering));
    }

    [Fact]
    public void Count_equals_preliminary_width_on_a_random_layer()
    {
        var random = new Random(7);
        var rows = Enumerable.Range(0, 40 * 6).Select(_ => (float)random.NextDouble()).ToArray();
        var clustering = Dbscan.Cluster(CosineDistance.Compute(rows, 40, 6), 40, eps: 0.02, minPts: 3);

        var keep = Representatives.Select(rows, 40, 6, clustering);

        Assert.Equal(clustering.PreliminaryWidth, keep.Length);
        Assert.Equal(keep.Order(), keep);
        Assert.Equal(keep.Distinct().Count(), keep.Length);
        Assert.Equal(clustering.ClusterCount, keep.Select(c => clustering.Labels[c]).Where(l => l >= 0).Distinct().Count());
    }
}
