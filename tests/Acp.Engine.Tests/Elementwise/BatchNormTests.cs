using Acp.Engine.Kernels;
using static Acp.Engine.Tests.Elementwise.ElementwiseTestSupport;

namespace Acp.Engine.Tests.Elementwise;

public class BatchNormTests
{
    private const int Slack = 3;

    public static TheoryData<int, int, int> Geometries => new()
    {
        { 1, 1, 2 },
        { 2, 3, 5 },
        { 3, 4, 17 },
        { 2, 5, 64 },
        // Large enough for the parallel paths (and an hw that is no multiple of the vector width).
        { 4, 16, 33 * 33 },
    };

    [Theory]
    [MemberData(nameof(Geometries))]
    public void Inference_matches_the_reference(int n, int c, int hw)
    {
        var rng = new Random(n * 100 + c * 10 + hw);
        var total = n * c * hw;
        var x = RandomFloats(rng, total, slack: Slack);
        var scale = RandomFloats(rng, c, 0.5, 2, Slack);
        var bias = RandomFloats(rng, c, slack: Slack);
        var mean = RandomFloats(rng, c, slack: Slack);
        var variance = RandomFloats(rng, c, 0.1, 3, Slack);
        var y = Poisoned(total);

        BatchNorm.Inference(n, c, hw, x, scale, bias, mean, variance, 1e-5f, y);

        var expected = ReferenceBatchNorm.Inference(n, c, hw, ToDouble(x, total), ToDouble(scale, c), ToDouble(bias, c),
            ToDouble(mean, c), ToDouble(variance, c), 1e-5f);
        AssertClose(expected, y, what: "y");
        AssertSlackUntouched(y, total);
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void Training_forward_matches_the_reference_and_saves_mean_and_inverse_std(int n, int c, int hw)
    {
        var rng = new Random(n * 100 + c * 10 + hw + 1);
        var total = n * c * hw;
        const float eps = 1e-3f;
        var x = RandomFloats(rng, total, -1, 3, Slack);
        var scale = RandomFloats(rng, c, 0.5, 2, Slack);
        var bias = RandomFloats(rng, c, slack: Slack);
        var savedMean = Poisoned(c);
        var savedInvStd = Poisoned(c);
        var y = Poisoned(total);

        BatchNorm.TrainingForward(n, c, hw, x, scale, bias, eps, savedMean, savedInvStd, y);

        var xd = ToDouble(x, total);
        var (mean, variance) = ReferenceBatchNorm.Statistics(n, c, hw, xd);
        AssertClose(mean, savedMean, 1e-5, 1e-6, "savedMean");
        AssertClose([.. variance.Select(v => 1 / Math.Sqrt(v + eps))], savedInvStd, 1e-5, 0, "savedInvStd");
        AssertClose(ReferenceBatchNorm.TrainingForward(n, c, hw, xd, ToDouble(scale, c), ToDouble(bias, c), eps), y, what: "y");
        AssertSlackUntouched(y, total);
        AssertSlackUntouched(savedMean, c);
    }

    [Fact]
    public void Training_forward_stays_accurate_when_the_mean_dwarfs_the_spread()
    {
        // x = 1000 + N(0, 1)-ish: the one-pass E[x²] − μ² variance would lose about six digits here.
        const int n = 4, c = 2, hw = 50;
        var rng = new Random(3);
        var x = RandomFloats(rng, n * c * hw, 999, 1001);
        var scale = new float[] { 1, 2 };
        var bias = new float[] { 0, 1 };
        var savedMean = new float[c];
        var savedInvStd = new float[c];
        var y = new float[x.Length];

        BatchNorm.TrainingForward(n, c, hw, x, scale, bias, 1e-5f, savedMean, savedInvStd, y);

        var (_, variance) = ReferenceBatchNorm.Statistics(n, c, hw, ToDouble(x, x.Length));
        AssertClose([.. variance.Select(v => 1 / Math.Sqrt(v + 1e-5))], savedInvStd, 1e-5, 0, "savedInvStd");
        AssertClose(ReferenceBatchNorm.TrainingForward(n, c, hw, ToDouble(x, x.Length), [1, 2], [0, 1], 1e-5), y, 1e-4, 3e-4, "y");
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void Backward_matches_the_reference(int n, int c, int hw)
    {
        var rng = new Random(n * 100 + c * 10 + hw + 2);
        var total = n * c * hw;
        const float eps = 1e-3f;
        var x = RandomFloats(rng, total, -1, 3, Slack);
        var dy = RandomFloats(rng, total, slack: Slack);
        var scale = RandomFloats(rng, c, 0.5, 2, Slack);
        var savedMean = new float[c];
        var savedInvStd = new float[c];
        BatchNorm.TrainingForward(n, c, hw, x, scale, new float[c], eps, savedMean, savedInvStd, new float[total]);
        var dx = Poisoned(total);
        var dscale = Poisoned(c);
        var dbias = Poisoned(c);

        BatchNorm.Backward(n, c, hw, x, dy, scale, savedMean, savedInvStd, dx, dscale, dbias);

        var (edx, edscale, edbias) = ReferenceBatchNorm.Backward(n, c, hw, ToDouble(x, total), ToDouble(dy, total), ToDouble(scale, c), eps);
        // dx is a difference of terms of size |dy|, so its error is absolute rather than relative.
        AssertClose(edx, dx, 1e-4, 2e-5, "dx");
        AssertClose(edscale, dscale, 1e-4, 1e-4, "dscale");
        AssertClose(edbias, dbias, 1e-5, 1e-4, "dbias");
        AssertSlackUntouched(dx, total);
        AssertSlackUntouched(dscale, c);
    }

    [Fact]
    public void Backward_is_bitwise_reproducible_and_allows_missing_outputs_and_in_place_dx()
    {
        const int n = 8, c = 24, hw = 28 * 28;
        var rng = new Random(4);
        var total = n * c * hw;
        var x = RandomFloats(rng, total, -1, 3);
        var dy = RandomFloats(rng, total);
        var scale = RandomFloats(rng, c, 0.5, 2);
        var savedMean = new float[c];
        var savedInvStd = new float[c];
        BatchNorm.TrainingForward(n, c, hw, x, scale, new float[c], 1e-5f, savedMean, savedInvStd, new float[total]);

        var first = Run();
        for (var repeat = 0; repeat < 4; repeat++)
        {
            var again = Run();
            Assert.Equal(first.Dx, again.Dx);
            Assert.Equal(first.Dscale, again.Dscale);
            Assert.Equal(first.Dbias, again.Dbias);
        }

        var onlyParameters = (Dscale: new float[c], Dbias: new float[c]);
        BatchNorm.Backward(n, c, hw, x, dy, scale, savedMean, savedInvStd, null, onlyParameters.Dscale, onlyParameters.Dbias);
        Assert.Equal(first.Dscale, onlyParameters.Dscale);
        Assert.Equal(first.Dbias, onlyParameters.Dbias);

        var inPlace = (float[])dy.Clone();
        BatchNorm.Backward(n, c, hw, x, inPlace, scale, savedMean, savedInvStd, inPlace, null, null);
        Assert.Equal(first.Dx, inPlace);

        (float[] Dx, float[] Dscale, float[] Dbias) Run()
        {
            var dx = new float[total];
            var dscale = new float[c];
            var dbias = new float[c];
            BatchNorm.Backward(n, c, hw, x, dy, scale, savedMean, savedInvStd, dx, dscale, dbias);
            return (dx, dscale, dbias);
        }
    }

    [Fact]
    public void Training_statistics_are_bitwise_reproducible()
    {
        const int n = 8, c = 16, hw = 30 * 30;
        var rng = new Random(5);
        var x = RandomFloats(rng, n * c * hw);
        var scale = RandomFloats(rng, c);
        var bias = RandomFloats(rng, c);
        float[] mean1 = new float[c], inv1 = new float[c], y1 = new float[x.Length];
        float[] mean2 = new float[c], inv2 = new float[c], y2 = new float[x.Length];

        BatchNorm.TrainingForward(n, c, hw, x, scale, bias, 1e-5f, mean1, inv1, y1);
        BatchNorm.TrainingForward(n, c, hw, x, scale, bias, 1e-5f, mean2, inv2, y2);

        Assert.Equal(mean1, mean2);
        Assert.Equal(inv1, inv2);
        Assert.Equal(y1, y2);
    }

    [Fact]
    public void Running_statistics_follow_the_onnx_momentum_and_the_unbiased_variance()
    {
        // One channel, values 1, 2, 3, 4: μ = 2.5, biased σ² = 1.25, unbiased σ² = 5/3. ONNX momentum 0.9 is
        // PyTorch's default momentum 0.1: running_mean = 0.9·0 + 0.1·2.5, running_var = 0.9·1 + 0.1·5/3.
        float[] x = [1, 2, 3, 4];
        var savedMean = new float[1];
        var savedInvStd = new float[1];
        const float eps = 1e-5f;
        BatchNorm.TrainingForward(1, 1, 4, x, [1], [0], eps, savedMean, savedInvStd, new float[4]);
        float[] runningMean = [0];
        float[] runningVar = [1];

        BatchNorm.UpdateRunningStatistics(4, savedMean, savedInvStd, eps, 0.9f, runningMean, runningVar);

        AssertNear(0.25, runningMean[0], 1e-6, 0, "running mean");
        AssertNear(0.9 + 0.1 * 5.0 / 3.0, runningVar[0], 1e-5, 0, "running var");
    }

    [Fact]
    public void Running_statistics_match_the_reference_with_the_explicit_channel_overload()
    {
        const int n = 3, c = 5, hw = 7;
        var rng = new Random(6);
        var x = RandomFloats(rng, n * c * hw, -1, 4);
        const float eps = 1e-3f;
        var savedMean = new float[c + Slack];
        var savedInvStd = new float[c + Slack];
        BatchNorm.TrainingForward(n, c, hw, x, new float[c], new float[c], eps, savedMean, savedInvStd, new float[x.Length]);
        var runningMean = RandomFloats(rng, c, slack: Slack);
        var runningVar = RandomFloats(rng, c, 0.5, 2, Slack);
        var (mean, variance) = ReferenceBatchNorm.Statistics(n, c, hw, ToDouble(x, x.Length));
        var expected = ReferenceBatchNorm.UpdateRunning(ToDouble(runningMean, c), ToDouble(runningVar, c), mean, variance, n * hw, 0.8);

        BatchNorm.UpdateRunningStatistics(c, n * hw, savedMean, savedInvStd, eps, 0.8f, runningMean, runningVar);

        AssertClose(expected.Mean, runningMean, 1e-5, 1e-6, "running mean");
        AssertClose(expected.Var, runningVar, 1e-4, 1e-6, "running var");
        AssertSlackUntouched(runningMean, c);
    }

    [Fact]
    public void Invalid_arguments_are_rejected_with_the_numbers()
    {
        var shortX = new float[5];
        var error = Assert.Throws<ArgumentException>(() =>
            BatchNorm.Inference(2, 3, 4, shortX, new float[3], new float[3], new float[3], new float[3], 1e-5f, new float[24]));
        Assert.Contains("5", error.Message);
        Assert.Contains("24", error.Message);

        var single = Assert.Throws<ArgumentException>(() =>
            BatchNorm.UpdateRunningStatistics(1, new float[1], new float[1], 1e-5f, 0.9f, new float[1], new float[1]));
        Assert.Contains("count", single.Message);

        Assert.Throws<ArgumentException>(() =>
            BatchNorm.TrainingForward(-1, 3, 4, new float[24], new float[3], new float[3], 1e-5f, new float[3], new float[3], new float[24]));
    }
}
