using Acp.Engine.Kernels;

namespace Acp.Engine.Tests.Elementwise;

/// <summary>The fused residual Add → Relu kernels against Add then Relu run apart, at every vector width: same bits.</summary>
public sealed class ResidualReluTests
{
    [Theory]
    [InlineData("Scalar", 37)]
    [InlineData("Vector256", 37)]
    [InlineData("Vector512", 37)]
    [InlineData("Vector512", 70_001)]
    public void Fused_add_relu_equals_add_then_relu(string widthName, int count)
    {
        var rng = new Random(count);
        float[] Random() => Enumerable.Range(0, count).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var a = Random();
        var b = Random();
        var dy = Random();
        var sum = a.Zip(b, (p, q) => p + q).ToArray();
        var expectedY = new float[count];
        Activations.ReluForward(count, sum, expectedY);
        var expectedGradient = new float[count];
        Activations.ReluBackward(count, sum, expectedY, dy, expectedGradient);

        var saved = BatchNorm.ForcedWidth;
        BatchNorm.ForcedWidth = Enum.Parse<BatchNorm.Width>(widthName);
        try
        {
            var y = new float[count];
            ResidualRelu.Forward(count, a, b, y);
            Assert.Equal(expectedY, y);
            float[] da = new float[count], db = new float[count];
            ResidualRelu.Backward(count, y, dy, da, db);
            Assert.Equal(expectedGradient, da);
            Assert.Equal(expectedGradient, db);
            Assert.Contains(da, v => v == 0f);
            Assert.Contains(da, v => v != 0f);
            var onlyB = new float[count];
            ResidualRelu.Backward(count, y, dy, null, onlyB);
            Assert.Equal(expectedGradient, onlyB);
        }
        finally
        {
            BatchNorm.ForcedWidth = saved;
        }
    }
}
