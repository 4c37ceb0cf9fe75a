namespace Acp.Pruning.Clustering;

/// <summary>The outcome of <see cref="Dbscan.Cluster(ReadOnlySpan{double}, int, double, int)"/> on one layer's channels.</summary>
public sealed class ClusteringResult
{
    /// <summary>Label value of a noise point.</summary>
    public const int Noise = -1;

    /// <summary>Creates a result from per-point labels (−1 noise, otherwise 0..clusterCount−1).</summary>
    /// <param name="labels">Per-point labels; the array is kept, not copied.</param>
    /// <param name="clusterCount">Number of distinct non-noise labels.</param>
    public ClusteringResult(int[] labels, int clusterCount)
    {
        ArgumentNullException.ThrowIfNull(labels);
        Labels = labels;
        ClusterCount = clusterCount;
        NoiseCount = labels.Count(l => l == Noise);
    }

    /// <summary>Cluster label of each point: −1 for noise, otherwise clusters 0, 1, … in order of discovery.</summary>
    public int[] Labels { get; }

    /// <summary>Number of clusters, noise excluded.</summary>
    public int ClusterCount { get; }

    /// <summary>Number of noise points.</summary>
    public int NoiseCount { get; }

    /// <summary>
    /// ACP's preliminary channel count n_l: one channel per cluster plus every noise channel (each noise channel is
    /// its own cluster).
    /// </summary>
    public int PreliminaryWidth => ClusterCount + NoiseCount;
}
