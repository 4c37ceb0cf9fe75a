using Acp.Pruning.Clustering;

namespace Acp.Pruning.Tests.Clustering;

/// <summary>Builders for hand-checkable inputs: Euclidean distance matrices of small point sets, synthetic layers.</summary>
internal static class ClusteringTestData
{
    /// <summary>Euclidean distance matrix of 1-D points.</summary>
    public static double[] Line(params double[] x) => Plane(x.Select(v => (v, 0.0)).ToArray());

    /// <summary>Euclidean distance matrix of 2-D points.</summary>
    public static double[] Plane(params (double X, double Y)[] p)
    {
        var n = p.Length;
        var d = new double[n * n];
        for (var i = 0; i < n; i++)
            for (var j = 0; j < n; j++)
                d[i * n + j] = Math.Sqrt((p[i].X - p[j].X) * (p[i].X - p[j].X) + (p[i].Y - p[j].Y) * (p[i].Y - p[j].Y));
        return d;
    }

    /// <summary>
    /// A layer of <paramref name="channels"/> channels: a few base directions, each channel one of them plus noise of a
    /// per-channel level, so pairwise cosine distances spread over a range and widths fall gradually with ε.
    /// </summary>
    public static double[] SyntheticLayer(int seed, int channels, int featureCount)
    {
        var random = new Random(seed);
        var bases = Enumerable.Range(0, 4).Select(_ => Enumerable.Range(0, featureCount).Select(_ => random.NextDouble() * 2 - 1).ToArray()).ToArray();
        var features = new float[channels * featureCount];
        for (var c = 0; c < channels; c++)
        {
            var b = bases[c % bases.Length];
            var level = 0.02 + 0.5 * random.NextDouble();
            for (var k = 0; k < featureCount; k++)
                features[c * featureCount + k] = (float)(b[k] + level * (random.NextDouble() * 2 - 1));
        }
        return CosineDistance.Compute(features, channels, featureCount);
    }
}
