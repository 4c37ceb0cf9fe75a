using Acp.Engine.Kernels;
using static Acp.Engine.Tests.Elementwise.ElementwiseTestSupport;

namespace Acp.Engine.Tests.Elementwise;

/// <summary>
/// The BatchNormalization plane loops at every vector width (scalar, 256-bit, 512-bit where the CPU has it) against the
/// double reference, fused with ReLU or not: the narrower paths are what CPUs without AVX-512 run.
/// </summary>
public sealed class BatchNormWidthTests
{
    public static TheoryData<string, int, int, int> Cases()
    {
        var data = new TheoryData<string, int, int, int>();
        foreach (var width in new[] { "Scalar", "Vector256", "Vector512" })
        {
            // hw below, at and past the vector and unrolled-loop lengths, and a ResNet plane.
            foreach (var (n, c, hw) in new[] { (3, 2, 7), (2, 3, 16), (2, 2, 33), (1, 3, 47), (4, 5, 784) })
            {
                data.Add(width, n, c, hw);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Training_forward_and_backward_match_the_reference_at_each_width(string widthName, int n, int c, int hw)
    {
        var width = Enum.Parse<BatchNorm.Width>(widthName);
        var total = n * c * hw;
        var rng = new Random(n * 1000 + c * 100 + hw + (int)width);
        const float eps = 1e-3f;
        // An offset mean, so the variance path is tested away from zero.
        var x = RandomFloats(rng, total, 4, 7);
        var dy = RandomFloats(rng, total);
        var scale = RandomFloats(rng, c, 0.5, 2);
        var bias = RandomFloats(rng, c);
        var xd = ToDouble(x, total);

        var saved = BatchNorm.ForcedWidth;
        BatchNorm.ForcedWidth = width;
        try
        {
            float[] mean = new float[c], invStd = new float[c], y = new float[total], r = new float[total];
            BatchNorm.TrainingForward(n, c, hw, x, scale, bias, eps, mean, invStd, y);
            var (expectedMean, variance) = ReferenceBatchNorm.Statistics(n, c, hw, xd);
            AssertClose(expectedMean, mean, 1e-5, 1e-6, "savedMean");
            AssertClose([.. variance.Select(v => 1 / Math.Sqrt(v + eps))], invStd, 1e-5, 0, "savedInvStd");
            var expectedY = ReferenceBatchNorm.TrainingForward(n, c, hw, xd, ToDouble(scale, c), ToDouble(bias, c), eps);
            AssertClose(expectedY, y, what: "y");

            BatchNorm.TrainingForward(n, c, hw, x, scale, bias, eps, new float[c], new float[c], r, relu: true);
            Assert.Equal(y.Select(v => Math.Max(v, 0f)).ToArray(), r);

            float[] dx = new float[total], dscale = new float[c], dbias = new float[c];
            BatchNorm.Backward(n, c, hw, x, dy, scale, mean, invStd, dx, dscale, dbias);
            var (edx, edscale, edbias) = ReferenceBatchNorm.Backward(n, c, hw, xd, ToDouble(dy, total), ToDouble(scale, c), eps);
            AssertClose(edx, dx, 1e-4, 2e-5, "dx");
            AssertClose(edscale, dscale, 1e-4, 1e-4, "dscale");
            AssertClose(edbias, dbias, 1e-5, 1e-4, "dbias");

            // Through ReLU: the same bits as gating dy first.
            var gated = dy.Select((g, i) => r[i] > 0f ? g : 0f).ToArray();
            float[] dx1 = new float[total], ds1 = new float[c], db1 = new float[c];
            BatchNorm.Backward(n, c, hw, x, gated, scale, mean, invStd, dx1, ds1, db1);
            float[] dx2 = new float[total], ds2 = new float[c], db2 = new float[c];
            BatchNorm.Backward(n, c, hw, x, dy, scale, mean, invStd, dx2, ds2, db2, reluOutput: r);
            Assert.Equal(dx1, dx2);
            Assert.Equal(ds1, ds2);
            Assert.Equal(db1, db2);
        }
        finally
        {
            BatchNorm.ForcedWidth = saved;
        }
    }
}
