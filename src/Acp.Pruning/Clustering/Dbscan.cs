namespace Acp.Pruning.Clustering;

/// <summary>
/// DBSCAN on a precomputed distance matrix with the semantics of sklearn's <c>DBSCAN(metric='precomputed')</c>,
/// which ACP uses with cosine distances (research notes §3).
/// </summary>
/// <remarks>
/// A point is a core point when at least <c>minPts</c> points, itself included, lie at distance ≤ ε. Clusters are
/// grown from core points in increasing index order, so cluster numbers follow the index of their first core point
/// and a border point reachable from several clusters joins the one discovered first: the same labels sklearn gives.
/// A point always counts as its own neighbour, whatever the matrix's diagonal holds.
/// </remarks>
public static class Dbscan
{
    /// <summary>Clusters <paramref name="count"/> points given their row-major flattened distance matrix.</summary>
    /// <param name="distances">count × count distances, row-major; only symmetric matrices give meaningful results.</param>
    /// <param name="count">Number of points.</param>
    /// <param name="eps">Neighbourhood radius (inclusive), at least 0.</param>
    /// <param name="minPts">Neighbours (self included) a core point needs, at least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException">count is negative, eps is negative or NaN, or minPts is below 1.</exception>
    /// <exception cref="ArgumentException">The matrix does not hold count × count values.</exception>
    public static ClusteringResult Cluster(ReadOnlySpan<double> distances, int count, double eps, int minPts)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        // Written as !(eps >= 0) so NaN is rejected too.
        if (!(eps >= 0)) throw new ArgumentOutOfRangeException(nameof(eps), eps, "eps must be a number ≥ 0.");
        ArgumentOutOfRangeException.ThrowIfLessThan(minPts, 1);
        if ((long)count * count != distances.Length)
            throw new ArgumentException(
                $"Expected a {count} × {count} matrix ({(long)count * count} values), got {distances.Length}.", nameof(distances));

        var neighbours = new List<int>[count];
        for (var i = 0; i < count; i++)
        {
            var row = distances.Slice(i * count, count);
            var list = new List<int>();
            for (var j = 0; j < count; j++)
                if (j == i || row[j] <= eps) list.Add(j);
            neighbours[i] = list;
        }

        var labels = new int[count];
        Array.Fill(labels, ClusteringResult.Noise);
        var clusters = 0;
        var stack = new Stack<int>();
        for (var seed = 0; seed < count; seed++)
        {
            if (labels[seed] != ClusteringResult.Noise || neighbours[seed].Count < minPts) continue;
            // Depth-first expansion as in sklearn's dbscan_inner: only core points spread the cluster; a border point
            // is labelled but stops there, so it cannot be relabelled by a later cluster.
            stack.Push(seed);
            while (stack.Count > 0)
            {
                var p = stack.Pop();
                if (labels[p] != ClusteringResult.Noise) continue;
                labels[p] = clusters;
                if (neighbours[p].Count < minPts) continue;
                foreach (var q in neighbours[p])
                    if (labels[q] == ClusteringResult.Noise) stack.Push(q);
            }
            clusters++;
        }
        return new ClusteringResult(labels, clusters);
    }

    /// <summary>Clusters the points of a square distance matrix; see <see cref="Cluster(ReadOnlySpan{double}, int, double, int)"/>.</summary>
    /// <exception cref="ArgumentException">The matrix is not square.</exception>
    public static ClusteringResult Cluster(double[,] distances, double eps, int minPts)
    {
        ArgumentNullException.ThrowIfNull(distances);
        var n = distances.GetLength(0);
        if (distances.GetLength(1) != n) throw new ArgumentException("The distance matrix must be square.", nameof(distances));
        var flat = new double[n * n];
        for (var i = 0; i < n; i++)
            for (var j = 0; j < n; j++)
                flat[i * n + j] = distances[i, j];
        return Cluster(flat, n, eps, minPts);
    }
}
