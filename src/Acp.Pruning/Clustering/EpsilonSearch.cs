namespace Acp.Pruning.Clustering;

/// <summary>The ε chosen by <see cref="EpsilonSearch.ForTargetWidth"/> and the structure it gives.</summary>
/// <param name="Epsilon">The smallest ε found (within the bisection tolerance) whose structure meets the target.</param>
/// <param name="Widths">Per-layer preliminary widths n_l at <paramref name="Epsilon"/>.</param>
/// <param name="Cost">The cost callback's value for <paramref name="Widths"/>; at most the target.</param>
/// <param name="Clusterings">Per-layer clusterings at <paramref name="Epsilon"/>, for choosing representatives.</param>
/// <param name="Steps">Bisection steps taken.</param>
public sealed record EpsilonSearchResult(
    double Epsilon, IReadOnlyList<int> Widths, double Cost, IReadOnlyList<ClusteringResult> Clusterings, int Steps);

/// <summary>
/// Chooses one DBSCAN ε for all layers (as ACP does, research notes §3) so that the structure meets a cost target.
/// ACP itself fixes ε by hand; searching it turns "prune to 50% of the FLOPs" into an ε.
/// </summary>
public static class EpsilonSearch
{
    /// <summary>Upper end of the search: cosine distances never exceed 2, so at ε = 2 every neighbourhood is the whole layer.</summary>
    public const double MaxEpsilon = 2.0;

    /// <summary>
    /// Bisects ε in [0, 2] for the smallest ε whose per-layer preliminary widths have cost ≤ <paramref name="target"/>.
    /// </summary>
    /// <remarks>
    /// A larger ε only merges clusters and absorbs noise, so every layer's width is non-increasing in ε; the cost must
    /// be non-increasing in the widths, which makes it non-increasing in ε and the bisection sound. The invariant is
    /// cost(lo) &gt; target ≥ cost(hi); the answer is hi after <paramref name="maxSteps"/> halvings, so ε − 2^(1−steps)
    /// misses the target. The loop also stops once the bracket is narrower than <paramref name="tolerance"/>.
    /// </remarks>
    /// <param name="distances">Per layer, its flattened square cosine-distance matrix (see <see cref="CosineDistance.Compute"/>).</param>
    /// <param name="cost">Cost of a structure given its per-layer widths (e.g. FLOPs ratio); non-increasing as widths shrink.</param>
    /// <param name="target">The cost the structure must not exceed.</param>
    /// <param name="minPts">DBSCAN's minPts; ACP uses 5.</param>
    /// <param name="maxSteps">Bisection steps; 30 brackets ε to about 2e-9.</param>
    /// <param name="tolerance">Stop once hi − lo is at most this.</param>
    /// <exception cref="ArgumentException">A matrix is not square.</exception>
    /// <exception cref="ArgumentOutOfRangeException">minPts &lt; 1, maxSteps &lt; 0, or target or tolerance is NaN.</exception>
    /// <exception cref="InvalidOperationException">Even ε = 2 does not meet the target, or the cost callback returns NaN.</exception>
    public static EpsilonSearchResult ForTargetWidth(
        IReadOnlyList<double[]> distances,
        Func<IReadOnlyList<int>, double> cost,
        double target,
        int minPts = 5,
        int maxSteps = 30,
        double tolerance = 0)
    {
        ArgumentNullException.ThrowIfNull(distances);
        ArgumentNullException.ThrowIfNull(cost);
        if (double.IsNaN(target)) throw new ArgumentOutOfRangeException(nameof(target), target, "target must be a number.");
        ArgumentOutOfRangeException.ThrowIfLessThan(minPts, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(maxSteps);
        if (!(tolerance >= 0)) throw new ArgumentOutOfRangeException(nameof(tolerance), tolerance, "tolerance must be ≥ 0.");

        var counts = new int[distances.Count];
        for (var l = 0; l < counts.Length; l++)
        {
            var length = distances[l]?.Length ?? throw new ArgumentException($"Layer {l} has no distance matrix.", nameof(distances));
            var n = (int)Math.Round(Math.Sqrt(length));
            if ((long)n * n != length)
                throw new ArgumentException($"Layer {l}'s distance matrix has {length} values, not a square number.", nameof(distances));
            counts[l] = n;
        }

        (int[] Widths, ClusteringResult[] Clusterings, double Cost) Evaluate(double eps)
        {
            var clusterings = new ClusteringResult[counts.Length];
            var widths = new int[counts.Length];
            for (var l = 0; l < counts.Length; l++)
            {
                clusterings[l] = Dbscan.Cluster(distances[l], counts[l], eps, minPts);
                widths[l] = clusterings[l].PreliminaryWidth;
            }
            var c = cost(widths);
            if (double.IsNaN(c)) throw new InvalidOperationException($"The cost callback returned NaN at ε = {eps}.");
            return (widths, clusterings, c);
        }

        var high = Evaluate(MaxEpsilon);
        if (high.Cost > target)
            throw new InvalidOperationException(
                $"Cost target {target} cannot be met: even ε = {MaxEpsilon} (widths [{string.Join(", ", high.Widths)}]) costs {high.Cost}.");
        var low = Evaluate(0);
        if (low.Cost <= target) return new EpsilonSearchResult(0, low.Widths, low.Cost, low.Clusterings, 0);

        double lo = 0, hi = MaxEpsilon;
        var steps = 0;
        while (steps < maxSteps && hi - lo > tolerance)
        {
            var mid = lo + (hi - lo) / 2;
            if (mid <= lo || mid >= hi) break; // no double strictly between: the bracket cannot shrink further
            var at = Evaluate(mid);
            steps++;
            if (at.Cost <= target)
            {
                hi = mid;
                high = at;
            }
            else
            {
                lo = mid;
            }
        }
        return new EpsilonSearchResult(hi, high.Widths, high.Cost, high.Clusterings, steps);
    }
}
