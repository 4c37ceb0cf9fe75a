using Acp.Engine.Kernels;

namespace Acp.Engine.Tests.Elementwise;

/// <summary>
/// The fused BatchNormalization + ReLU kernels against the two kernels run apart (each held to its own reference
/// elsewhere): the fused forms promise the same bits, so the comparison is exact.
/// </summary>
public sealed class BatchNormReluFusionTests
{
    public static TheoryData<int, int, int> Shapes => new() { { 4, 3, 25 }, { 2, 16, 784 }, { 3, 5, 300 }, { 1, 2, 1 }, { 8, 64, 49 } };

    private static float[] Random(Random rng, int count, float scale = 1f, float offset = 0f) =>
        Enumerable.Range(0, count).Select(_ => (float)(rng.NextDouble() * 2 - 1) * scale + offset).ToArray();

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Forward_with_relu_equals_forward_then_relu(int n, int c, int hw)
    {
        var rng = new Random(n * 1000 + c * 10 + hw);
        var total = n * c * hw;
        var x = Random(rng, total, 2f, 0.3f);
        var scale = Random(rng, c);
        var bias = Random(rng, c);

        float[] mean1 = new float[c], inv1 = new float[c], y1 = new float[total], r1 = new float[total];
        BatchNorm.TrainingForward(n, c, hw, x, scale, bias, 1e-5f, mean1, inv1, y1);
        Activations.ReluForward(total, y1, r1);
        float[] mean2 = new float[c], inv2 = new float[c], r2 = new float[total];
        BatchNorm.TrainingForward(n, c, hw, x, scale, bias, 1e-5f, mean2, inv2, r2, relu: true);

        Assert.Equal(mean1, mean2);
        Assert.Equal(inv1, inv2);
        Assert.Equal(r1, r2);
        Assert.Contains(r2, v => v == 0f);
        Assert.Contains(r2, v => v > 0f);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Backward_through_relu_equals_relu_backward_then_backward(int n, int c, int hw)
    {
        var rng = new Random(n * 1000 + c * 10 + hw + 1);
        var total = n * c * hw;
        var x = Random(rng, total, 2f, 0.3f);
        var scale = Random(rng, c);
        var bias = Random(rng, c);
        float[] mean = new float[c], inv = new float[c], y = new float[total], r = new float[total];
        BatchNorm.TrainingForward(n, c, hw, x, scale, bias, 1e-5f, mean, inv, y);
        Activations.ReluForward(total, y, r);
        var dr = Random(rng, total);

        var dy = new float[total];
        Activations.ReluBackward(total, y, r, dr, dy);
        float[] dx1 = new float[total], ds1 = new float[c], db1 = new float[c];
        BatchNorm.Backward(n, c, hw, x, dy, scale, mean, inv, dx1, ds1, db1);

        float[] dx2 = new float[total], ds2 = new float[c], db2 = new float[c];
        BatchNorm.Backward(n, c, hw, x, dr, scale, mean, inv, dx2, ds2, db2, reluOutput: r);

        Assert.Equal(dx1, dx2);
        Assert.Equal(ds1, ds2);
        Assert.Equal(db1, db2);
        if (n * hw > 1) Assert.NotEqual(dx1, new float[total]); // one value per channel normalises to a constant: dx = 0
    }

    [Fact]
    public void Gating_by_the_output_it_writes_into_is_refused()
    {
        var buffer = new float[8];
        Assert.Throws<ArgumentException>(() =>
            BatchNorm.Backward(2, 1, 4, new float[8], new float[8], [1f], [0f], [1f], buffer, null, null, reluOutput: buffer));
    }
}
