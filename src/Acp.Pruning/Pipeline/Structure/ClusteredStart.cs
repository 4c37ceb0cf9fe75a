using Acp.Pruning.Clustering;
using Acp.Pruning.Search;

namespace Acp.Pruning.Pipeline;

/// <summary>
/// Where ACP's swarm starts (paper, step (a)–(b)): the original network's feature maps per group, clustered by DBSCAN
/// on cosine distances with ε given or bisected so that the clustering's widths meet the budget.
/// </summary>
/// <param name="Features">Each searched group's feature maps.</param>
/// <param name="Clusterings">Each group's clustering.</param>
/// <param name="Epsilon">The ε used.</param>
/// <param name="Widths">The clustering's widths, rounded: the swarm's first particle.</param>
internal sealed record ClusteredStart(IReadOnlyList<GroupFeatures> Features, IReadOnlyList<ClusteringResult> Clusterings, double Epsilon, int[] Widths)
{
    public static ClusteredStart Find(PruningRun run)
    {
        var (options, budget, groups, progress) = (run.Options, run.Budget, run.Groups, run.Progress);
        var features = FeatureMaps.Collect(run.Original, groups, run.Data.Calibration, options.Tap, progress, run.Cancellation);
        run.Original.ReleaseBuffers();
        progress?.Report(new PruningProgress(PruningStage.Clustering, 0, 1, "clustering channels"));
        var distances = features.Select(f => CosineDistance.Compute(f.Rows, f.Group.Width, f.FeatureCount)).ToArray();
        var upper = groups.Select(g => g.Width).ToArray();
        int[] Rounded(IReadOnlyList<int> widths) => widths.Select((w, d) => StructureRounding.Round(w, upper[d], options.RoundTo)).ToArray();

        double epsilon;
        IReadOnlyList<ClusteringResult> clusterings;
        if (options.Epsilon is { } fixedEpsilon)
        {
            epsilon = fixedEpsilon;
            clusterings = distances.Select((d, l) => Dbscan.Cluster(d, upper[l], fixedEpsilon, options.MinPoints)).ToArray();
        }
        else
        {
            EpsilonSearchResult found;
            try
            {
                found = EpsilonSearch.ForTargetWidth(distances, widths => budget.Usage(Rounded(widths)), 1.0, options.MinPoints);
            }
            catch (InvalidOperationException)
            {
                var narrowest = upper.Select(u => Math.Min(options.RoundTo, u)).ToArray();
                throw new InvalidOperationException($"The budget cannot be met: even the narrowest structure costs {budget.Describe(budget.Cost(narrowest))}.");
            }
            epsilon = found.Epsilon;
            clusterings = found.Clusterings;
        }
        var start = Rounded(clusterings.Select(c => c.PreliminaryWidth).ToArray());
        progress?.Report(new PruningProgress(PruningStage.Clustering, 1, 1, $"ε = {epsilon:0.#####}: {budget.Describe(budget.Cost(start))}"));
        return new ClusteredStart(features, clusterings, epsilon, start);
    }

    /// <summary>The expected time of <see cref="Find"/>: the calibration images through the original, and the cosine distances.</summary>
    public static IEnumerable<StageEstimate> Estimate(PruningRun run, WorkRates rates)
    {
        var calibration = run.Data.Calibration.ImagesPerEpoch;
        yield return new(PruningStage.Calibrating, StageEstimates.Seconds(calibration * rates.OriginalInference), $"feature maps of {calibration} images");
        // Distances cost width² × features per group; ε's bisection re-runs DBSCAN on them, which costs far less.
        var units = run.Groups.Sum(g => (double)g.Width * g.Width
            * g.Producers.Select(p => p.Output).Distinct(StringComparer.Ordinal).Sum(v => Spatial(run, v)));
        yield return new(PruningStage.Clustering, StageEstimates.Seconds(units * rates.CosineUnit), $"cosine distances of {run.Groups.Count} groups");
    }

    /// <summary>Elements per channel of <paramref name="value"/> (its spatial size), 1 when its shape is unknown.</summary>
    private static long Spatial(PruningRun run, string value) =>
        run.Analysis.Shapes.ShapeOf(value) is { Length: > 2 } shape ? shape.Skip(2).Aggregate(1L, (product, d) => product * Math.Max(1, d)) : 1;
}
