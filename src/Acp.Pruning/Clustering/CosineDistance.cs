using System.Numerics.Tensors;

namespace Acp.Pruning.Clustering;

/// <summary>
/// Pairwise cosine distance, d(i, j) = 1 − cos(row i, row j), between the rows of a row-major float matrix
/// [channels × features]: ACP's similarity between channels' mean feature maps (research notes §3).
/// </summary>
/// <remarks>
/// Rows are widened to double before any arithmetic, so dot products and norms accumulate in double: feature maps
/// with thousands of elements would otherwise lose the small distances (ε ≈ 0.005) that ACP's clustering turns on.
/// <para>
/// Zero rows have no direction. Here a zero row is at distance 0 from another zero row (they are the same channel,
/// as far as the feature map can tell) and at distance 1 from any non-zero row (as if orthogonal). This differs from
/// sklearn, which puts two distinct zero rows at distance 1; dead channels that never fire should collapse together.
/// </para>
/// </remarks>
public static class CosineDistance
{
    /// <summary>
    /// The full symmetric distance matrix, flattened row-major: element [i * channels + j] is d(i, j). The diagonal
    /// is exactly 0 and every value lies in [0, 2].
    /// </summary>
    /// <param name="features">Row-major matrix of <paramref name="channels"/> rows of <paramref name="featureCount"/> values.</param>
    /// <param name="channels">Number of rows.</param>
    /// <param name="featureCount">Number of values per row.</param>
    /// <exception cref="ArgumentOutOfRangeException">A count is negative.</exception>
    /// <exception cref="ArgumentException">The span's length is not channels × featureCount, or a value is not finite.</exception>
    public static double[] Compute(ReadOnlySpan<float> features, int channels, int featureCount)
    {
        var rows = Widen(features, channels, featureCount);
        var norms = new double[channels];
        for (var i = 0; i < channels; i++) norms[i] = TensorPrimitives.Norm(Row(rows, i, featureCount));

        var result = new double[channels * channels];
        for (var i = 0; i < channels; i++)
        {
            var a = Row(rows, i, featureCount);
            for (var j = i + 1; j < channels; j++)
            {
                var d = FromDot(TensorPrimitives.Dot(a, Row(rows, j, featureCount)), norms[i], norms[j]);
                // Written to both halves from one computation so the matrix is exactly symmetric.
                result[i * channels + j] = d;
                result[j * channels + i] = d;
            }
        }
        return result;
    }

    /// <summary>Cosine distance between two equally long double vectors, with the zero-row convention of this class.</summary>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public static double Between(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        if (a.Length != b.Length) throw new ArgumentException("Vectors must have the same length.", nameof(b));
        return FromDot(TensorPrimitives.Dot(a, b), TensorPrimitives.Norm(a), TensorPrimitives.Norm(b));
    }

    /// <summary>Validates the shape and finiteness of a feature matrix and widens it to double.</summary>
    internal static double[] Widen(ReadOnlySpan<float> features, int channels, int featureCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(channels);
        ArgumentOutOfRangeException.ThrowIfNegative(featureCount);
        if ((long)channels * featureCount != features.Length)
            throw new ArgumentException(
                $"Expected {channels} × {featureCount} = {(long)channels * featureCount} values, got {features.Length}.", nameof(features));
        var rows = new double[features.Length];
        for (var i = 0; i < features.Length; i++)
        {
            // A NaN would make every comparison with ε false and silently turn the channel into noise.
            if (!float.IsFinite(features[i]))
                throw new ArgumentException($"Feature value {i} is {features[i]}; features must be finite.", nameof(features));
            rows[i] = features[i];
        }
        return rows;
    }

    internal static ReadOnlySpan<double> Row(double[] rows, int index, int featureCount) =>
        rows.AsSpan(index * featureCount, featureCount);

    private static double FromDot(double dot, double normA, double normB)
    {
        var zeroA = normA == 0;
        var zeroB = normB == 0;
        if (zeroA || zeroB) return zeroA && zeroB ? 0 : 1;
        // Rounding can push |cos| slightly above 1; clamp so distances stay in [0, 2].
        var cos = Math.Clamp(dot / (normA * normB), -1.0, 1.0);
        return 1 - cos;
    }
}
