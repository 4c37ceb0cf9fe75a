namespace Acp.Pruning.Clustering;

/// <summary>
/// Which channels stand for a clustering: one per cluster plus every noise channel, the "natural choice" of the
/// research notes §6 when a layer keeps exactly its preliminary width n_l.
/// </summary>
public static class Representatives
{
    /// <summary>
    /// For each cluster, the member whose feature row is nearest (cosine distance) the mean of the members' rows,
    /// ties going to the lowest index; plus every noise channel. The mean, not the medoid, is used because it is
    /// what "nearest the cluster centre" means in the notes and costs O(members) instead of O(members²).
    /// </summary>
    /// <param name="features">Row-major [channels × featureCount] features the clustering was computed from.</param>
    /// <param name="channels">Number of channels (rows).</param>
    /// <param name="featureCount">Values per row.</param>
    /// <param name="clustering">The layer's clustering, with one label per channel.</param>
    /// <returns>Sorted channel indices to keep; their count equals <see cref="ClusteringResult.PreliminaryWidth"/>.</returns>
    /// <exception cref="ArgumentException">The clustering does not label exactly <paramref name="channels"/> channels, or the features are malformed.</exception>
    public static int[] Select(ReadOnlySpan<float> features, int channels, int featureCount, ClusteringResult clustering)
    {
        ArgumentNullException.ThrowIfNull(clustering);
        var rows = CosineDistance.Widen(features, channels, featureCount);
        var labels = clustering.Labels;
        if (labels.Length != channels)
            throw new ArgumentException($"The clustering labels {labels.Length} channels, the features have {channels}.", nameof(clustering));

        var sums = new double[clustering.ClusterCount * featureCount];
        var keep = new List<int>(clustering.PreliminaryWidth);
        for (var c = 0; c < channels; c++)
        {
            var label = labels[c];
            if (label == ClusteringResult.Noise)
            {
                keep.Add(c);
                continue;
            }
            var row = CosineDistance.Row(rows, c, featureCount);
            var sum = sums.AsSpan(label * featureCount, featureCount);
            for (var k = 0; k < featureCount; k++) sum[k] += row[k];
        }

        // Cosine distance ignores scale, so the sum stands in for the mean.
        var best = new int[clustering.ClusterCount];
        var bestDistance = new double[clustering.ClusterCount];
        Array.Fill(best, -1);
        for (var c = 0; c < channels; c++)
        {
            var label = labels[c];
            if (label == ClusteringResult.Noise) continue;
            var d = CosineDistance.Between(CosineDistance.Row(rows, c, featureCount), sums.AsSpan(label * featureCount, featureCount));
            // Strictly smaller only, so ties keep the lowest index (channels are visited in increasing order).
            if (best[label] < 0 || d < bestDistance[label])
            {
                best[label] = c;
                bestDistance[label] = d;
            }
        }
        foreach (var b in best)
        {
            if (b < 0) throw new ArgumentException("A cluster label has no members.", nameof(clustering));
            keep.Add(b);
        }
        keep.Sort();
        return keep.ToArray();
    }
}
