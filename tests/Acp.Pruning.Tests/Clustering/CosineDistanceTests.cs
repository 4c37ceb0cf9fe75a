using Acp.Pruning.Clustering;

namespace Acp.Pruning.Tests.Clustering;

/// <summary>Cosine distance against values known in closed form.</summary>
public sealed class CosineDistanceTests
{
    private static double At(double[] d, int n, int i, int j) => d[i * n + j];

    [Fact]
    public void Known_values_parallel_orthogonal_opposite_scaled()
    {
        float[] rows =
        [
            1, 0, 0,   // 0
            0, 1, 0,   // 1: orthogonal to 0
            -1, 0, 0,  // 2: opposite to 0
            2, 0, 0,   // 3: parallel to 0
            1, 2, 3,   // 4
            3, 6, 9,   // 5: 4 scaled by 3
            1, 1, 0,   // 6: 45° from 0
        ];
        var d = CosineDistance.Compute(rows, 7, 3);

        Assert.Equal(1, At(d, 7, 0, 1), 12);
        Assert.Equal(2, At(d, 7, 0, 2), 12);
        Assert.Equal(0, At(d, 7, 0, 3), 12);
        Assert.Equal(0, At(d, 7, 4, 5), 12);
        Assert.Equal(1 - 1 / Math.Sqrt(2), At(d, 7, 0, 6), 12);
        for (var i = 0; i < 7; i++)
        {
            Assert.Equal(0, At(d, 7, i, i));
            for (var j = 0; j < 7; j++)
            {
                Assert.Equal(At(d, 7, i, j), At(d, 7, j, i));
                Assert.InRange(At(d, 7, i, j), 0, 2);
            }
        }
    }

    [Fact]
    public void Zero_rows_are_zero_apart_and_one_from_anything_else()
    {
        float[] rows = [0, 0, 0, 0, 5, -1];
        var d = CosineDistance.Compute(rows, 3, 2);

        Assert.Equal(0, At(d, 3, 0, 1));
        Assert.Equal(1, At(d, 3, 0, 2));
        Assert.Equal(1, At(d, 3, 2, 1));
    }

    [Fact]
    public void Small_distances_survive_long_rows()
    {
        // 4096 features with a tiny tilt: float accumulation would blur a distance of ~1e-7.
        const int n = 4096;
        var rows = new float[2 * n];
        for (var k = 0; k < n; k++)
        {
            rows[k] = 1;
            rows[n + k] = k == 0 ? 1.001f : 1;
        }
        var a = Enumerable.Repeat(1.0, n).ToArray();
        var b = (double[])a.Clone();
        b[0] = 1.001f;
        var expected = 1 - a.Zip(b, (x, y) => x * y).Sum() / Math.Sqrt(a.Sum(x => x * x) * b.Sum(x => x * x));

        var d = CosineDistance.Compute(rows, 2, n);

        Assert.True(expected > 0);
        Assert.Equal(expected, d[1], 1e-15);
    }

    [Fact]
    public void Malformed_input_is_rejected()
    {
        Assert.Throws<ArgumentException>(() => CosineDistance.Compute(new float[5], 2, 3));
        Assert.Throws<ArgumentException>(() => CosineDistance.Compute([1, float.NaN], 1, 2));
    }
}
