using Acp.Pruning.Clustering;
using static Acp.Pruning.Tests.Clustering.ClusteringTestData;

namespace Acp.Pruning.Tests.Clustering;

/// <summary>
/// DBSCAN against clusterings worked out by hand following sklearn's algorithm (core: ≥ minPts points within ≤ ε,
/// self included; clusters seeded from core points in index order; border points never re-labelled).
/// </summary>
public sealed class DbscanTests
{
    [Fact]
    public void Two_dense_blobs_and_an_outlier()
    {
        // minPts 3, ε 1.5: 1 and 11 are the only cores (3 neighbours each); 0, 2, 10, 12 are borders; 30 is alone.
        var result = Dbscan.Cluster(Line(0, 1, 2, 10, 11, 12, 30), 7, eps: 1.5, minPts: 3);

        Assert.Equal([0, 0, 0, 1, 1, 1, -1], result.Labels);
        Assert.Equal(2, result.ClusterCount);
        Assert.Equal(1, result.NoiseCount);
        Assert.Equal(3, result.PreliminaryWidth);
    }

    [Fact]
    public void Eps_is_inclusive()
    {
        // Neighbours at exactly ε count, as in sklearn's radius_neighbors (distance ≤ radius).
        var atEps = Dbscan.Cluster(Line(0, 1, 2), 3, eps: 1, minPts: 3);
        var below = Dbscan.Cluster(Line(0, 1, 2), 3, eps: 0.999, minPts: 3);

        Assert.Equal([0, 0, 0], atEps.Labels);
        Assert.Equal([-1, -1, -1], below.Labels);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Border_point_reachable_from_two_clusters_joins_the_first_discovered(bool bFirst)
    {
        (double, double)[] a = [(0, 0), (-1, 0), (0, 1), (0, -1)];
        (double, double)[] b = [(4, 0), (5, 0), (4, 1), (4, -1)];
        // (2, 0) is 2 from both (0, 0) and (4, 0) and farther from every other point: 3 neighbours < minPts 4, so a
        // border point of both clusters.
        var points = (bFirst ? b : a).Append((2, 0)).Concat(bFirst ? a : b).ToArray();

        var result = Dbscan.Cluster(Plane(points), 9, eps: 2.1, minPts: 4);

        Assert.Equal([0, 0, 0, 0, 0, 1, 1, 1, 1], result.Labels);
        Assert.Equal(2, result.ClusterCount);
        Assert.Equal(0, result.NoiseCount);
    }

    [Fact]
    public void Tiny_eps_makes_everything_noise()
    {
        var result = Dbscan.Cluster(Line(0, 1, 2, 10, 11, 12, 30), 7, eps: 1e-9, minPts: 2);

        Assert.All(result.Labels, l => Assert.Equal(-1, l));
        Assert.Equal(0, result.ClusterCount);
        Assert.Equal(7, result.PreliminaryWidth);
    }

    [Fact]
    public void Huge_eps_makes_one_cluster()
    {
        var result = Dbscan.Cluster(Line(0, 1, 2, 10, 11, 12, 30), 7, eps: 100, minPts: 5);

        Assert.All(result.Labels, l => Assert.Equal(0, l));
        Assert.Equal(1, result.PreliminaryWidth);
    }

    [Fact]
    public void MinPts_one_makes_every_point_core_and_clusters_are_connected_components()
    {
        var result = Dbscan.Cluster(Line(0, 1, 5, 6, 20), 5, eps: 1.5, minPts: 1);

        Assert.Equal([0, 0, 1, 1, 2], result.Labels);
        Assert.Equal(0, result.NoiseCount);
    }

    [Fact]
    public void Clusters_are_numbered_by_their_first_core_point_not_their_first_member()
    {
        // sklearn: point 0 (x=0) is a border (neighbours 0, 1 only), so the first core seen is index 2 (x=11):
        // cluster 0 = {1, 2, 3}; index 4 (x=1) seeds cluster 1 = {0, 4, 5}. Hence index 0 carries label 1.
        var result = Dbscan.Cluster(Line(0, 10, 11, 12, 1, 2), 6, eps: 1, minPts: 3);

        Assert.Equal([1, 0, 0, 0, 1, 1], result.Labels);
    }

    [Fact]
    public void Border_points_do_not_spread_the_cluster()
    {
        // sklearn, ε 1, minPts 4: the five points in [-0.4, 0] are cores. 0.95 has 3 neighbours (0, itself, 1.9): a
        // border of the cluster. 1.9 is within ε only of 0.95, a non-core, so it stays noise.
        var result = Dbscan.Cluster(Line(-0.4, -0.3, -0.2, -0.1, 0, 0.95, 1.9), 7, eps: 1, minPts: 4);

        Assert.Equal([0, 0, 0, 0, 0, 0, -1], result.Labels);
        Assert.Equal(2, result.PreliminaryWidth);
    }

    [Fact]
    public void Chain_of_cores_is_one_cluster()
    {
        // sklearn: with ε 1 and minPts 3, 1, 2, 3 are cores linked in a chain; 0 and 4 are borders.
        var result = Dbscan.Cluster(Line(0, 1, 2, 3, 4, 9), 6, eps: 1, minPts: 3);

        Assert.Equal([0, 0, 0, 0, 0, -1], result.Labels);
    }

    [Fact]
    public void Two_dimensional_matrix_overload_agrees_with_the_flat_one()
    {
        var flat = Line(0, 1, 2, 10, 11, 12, 30);
        var square = new double[7, 7];
        for (var i = 0; i < 7; i++)
            for (var j = 0; j < 7; j++)
                square[i, j] = flat[i * 7 + j];

        Assert.Equal(Dbscan.Cluster(flat, 7, 1.5, 3).Labels, Dbscan.Cluster(square, 1.5, 3).Labels);
    }

    [Fact]
    public void Parameters_are_validated()
    {
        var d = Line(0, 1);
        Assert.Equal("eps", Assert.Throws<ArgumentOutOfRangeException>(() => Dbscan.Cluster(d, 2, -0.1, 1)).ParamName);
        Assert.Equal("eps", Assert.Throws<ArgumentOutOfRangeException>(() => Dbscan.Cluster(d, 2, double.NaN, 1)).ParamName);
        Assert.Equal("minPts", Assert.Throws<ArgumentOutOfRangeException>(() => Dbscan.Cluster(d, 2, 0.5, 0)).ParamName);
        Assert.Throws<ArgumentException>(() => Dbscan.Cluster(d, 3, 0.5, 1));
    }

    [Fact]
    public void Empty_input_has_no_clusters()
    {
        var result = Dbscan.Cluster(ReadOnlySpan<double>.Empty, 0, 0.5, 5);

        Assert.Empty(result.Labels);
        Assert.Equal(0, result.PreliminaryWidth);
    }
}
