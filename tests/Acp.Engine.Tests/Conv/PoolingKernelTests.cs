using Acp.Engine.Kernels;
using static Acp.Engine.Tests.Conv.ConvTestSupport;

namespace Acp.Engine.Tests.Conv;

/// <summary>The float pooling kernels against the double reference, with guard elements, ties, NaNs and determinism.</summary>
public sealed class PoolingKernelTests
{
    private const double Tolerance = 1e-5;

    public static TheoryData<string> Cases => ConvCases.PoolNames;

    [Theory]
    [MemberData(nameof(Cases))]
    public void Max_pooling_matches_reference(string name)
    {
        var g = ConvCases.Pools[name];
        var rng = new Random(name.GetHashCode(StringComparison.Ordinal));
        // Few distinct values, so most windows hold ties and the first-index rule is exercised; all negative, so a
        // padded zero would win if padding took part.
        var x = Enumerable.Range(0, (int)g.InputLength).Select(_ => -1f - rng.Next(4)).ToArray();
        var dy = RandomFloats(rng, g.OutputLength);

        var y = Output(g.OutputLength);
        var argmax = IndexOutput(g.OutputLength);
        Pooling.MaxForward(g, Input(x), y, argmax);
        var (expectedY, expectedArgmax) = Reference.MaxPool(g, ToDouble(x, x.Length));
        AssertClose(expectedY, y, 0, $"{name} y");
        Assert.Equal(expectedArgmax, argmax.Take((int)g.OutputLength));
        AssertSentinels(y, g.OutputLength, $"{name} y");
        AssertSentinels(argmax, g.OutputLength, $"{name} argmax");

        var dx = Output(g.InputLength);
        Pooling.MaxBackward(g, Input(dy), argmax, dx);
        AssertClose(Reference.MaxPoolBackward(g, ToDouble(dy, dy.Length), expectedArgmax), dx, Tolerance, $"{name} dx");
        AssertSentinels(dx, g.InputLength, $"{name} dx");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Average_pooling_matches_reference_both_ways_of_counting_padding(string name)
    {
        foreach (var includePad in new[] { false, true })
        {
            var g = ConvCases.Pools[name] with { CountIncludePad = includePad };
            var rng = new Random(name.GetHashCode(StringComparison.Ordinal) + (includePad ? 1 : 0));
            var x = RandomFloats(rng, g.InputLength);
            var dy = RandomFloats(rng, g.OutputLength);

            var y = Output(g.OutputLength);
            Pooling.AverageForward(g, Input(x), y);
            AssertClose(Reference.AveragePool(g, ToDouble(x, x.Length)), y, Tolerance, $"{g} y");
            AssertSentinels(y, g.OutputLength, $"{g} y");

            var dx = Output(g.InputLength);
            Pooling.AverageBackward(g, Input(dy), dx);
            AssertClose(Reference.AveragePoolBackward(g, ToDouble(dy, dy.Length)), dx, Tolerance, $"{g} dx");
            AssertSentinels(dx, g.InputLength, $"{g} dx");
        }
    }

    [Fact]
    public void Max_pooling_picks_the_first_of_equal_maxima_and_lets_nan_through()
    {
        var g = MakePool(1, 1, 2, 4, 2, 2, 2, 2);
        var x = new[] { 3f, 5f, 1f, float.NaN, 5f, 2f, float.NaN, 9f };
        var y = new float[2];
        var argmax = new int[2];
        Pooling.MaxForward(g, x, y, argmax);
        Assert.Equal(5f, y[0]);
        Assert.Equal(1, argmax[0]);
        Assert.True(float.IsNaN(y[1]));
        Assert.Equal(3, argmax[1]);
    }

    [Fact]
    public void Max_pooling_lets_nan_through_on_the_vector_path_too()
    {
        // 1×64 rows, 3-wide windows at stride 1: the interior runs 16 outputs per vector.
        var g = MakePool(1, 1, 1, 64, 1, 3, 1, 1);
        var x = Enumerable.Range(0, 64).Select(i => (float)(i % 7)).ToArray();
        x[20] = float.NaN;
        x[21] = float.NaN;
        var y = new float[g.OutputLength];
        var argmax = new int[g.OutputLength];
        Pooling.MaxForward(g, x, y, argmax);
        for (var o = 0; o < y.Length; o++)
        {
            var window = new[] { o, o + 1, o + 2 };
            var nan = window.FirstOrDefault(i => float.IsNaN(x[i]), -1);
            if (nan >= 0)
            {
                Assert.True(float.IsNaN(y[o]), $"output {o} should be NaN");
                Assert.Equal(nan, argmax[o]);
                continue;
            }
            var best = window.Select(i => x[i]).Max();
            Assert.Equal(best, y[o]);
            Assert.Equal(window.First(i => x[i] == best), argmax[o]);
        }
    }

    [Fact]
    public void Max_pooling_indices_are_flat_over_the_whole_tensor()
    {
        var g = MakePool(2, 3, 4, 4, 2, 2, 2, 2);
        var x = Enumerable.Range(0, (int)g.InputLength).Select(i => (float)i).ToArray();
        var y = new float[g.OutputLength];
        var argmax = new int[g.OutputLength];
        Pooling.MaxForward(g, x, y, argmax);
        for (var o = 0; o < y.Length; o++) Assert.Equal(y[o], argmax[o]);
    }

    [Fact]
    public void Max_backward_rejects_an_index_from_another_plane()
    {
        var g = MakePool(1, 2, 2, 2, 2, 2, 2, 2);
        var e = Assert.Throws<ArgumentException>(() => Pooling.MaxBackward(g, [1f, 1f], [5, 6], new float[8]));
        Assert.Contains("5", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Large_pooling_matches_reference_and_is_deterministic()
    {
        var g = MakePool(9, 16, 29, 31, 3, 3, 2, 2, 1, 1, 1, 1, ceil: true, includePad: true);
        var rng = new Random(11);
        var x = RandomFloats(rng, g.InputLength);
        var dy = RandomFloats(rng, g.OutputLength);
        var y = Output(g.OutputLength);
        Pooling.AverageForward(g, x, y);
        AssertClose(Reference.AveragePool(g, ToDouble(x, x.Length)), y, Tolerance, "y");
        var dx1 = Output(g.InputLength);
        var dx2 = Output(g.InputLength);
        Pooling.AverageBackward(g, dy, dx1);
        Pooling.AverageBackward(g, (float[])dy.Clone(), dx2);
        Assert.True(ConvKernelTests.BitwiseEqual(dx1, dx2));
        AssertClose(Reference.AveragePoolBackward(g, ToDouble(dy, dy.Length)), dx1, Tolerance, "dx");
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(2, 3, 49)]
    [InlineData(3, 64, 7)]
    [InlineData(5, 7, 784)]
    public void Global_average_matches_reference(int n, int c, int hw)
    {
        var rng = new Random(n * 1000 + hw);
        var x = RandomFloats(rng, (long)n * c * hw, 3f);
        var dy = RandomFloats(rng, n * c);
        var y = Output(n * c);
        Pooling.GlobalAverageForward(n, c, hw, Input(x), y);
        AssertClose(Reference.GlobalAverage(n * c, hw, ToDouble(x, x.Length)), y, Tolerance, "y");
        AssertSentinels(y, n * c, "y");

        var dx = Output((long)n * c * hw);
        Pooling.GlobalAverageBackward(n, c, hw, Input(dy), dx);
        AssertClose(Reference.GlobalAverageBackward(n * c, hw, ToDouble(dy, dy.Length)), dx, Tolerance, "dx");
        AssertSentinels(dx, (long)n * c * hw, "dx");

        var again = Output(n * c);
        Pooling.GlobalAverageForward(n, c, hw, Input(x), again);
        Assert.True(ConvKernelTests.BitwiseEqual(y, again));
    }

    [Theory]
    [InlineData(5, 2, 2, 0, false, 2)]
    [InlineData(5, 2, 2, 0, true, 3)]
    [InlineData(6, 2, 2, 1, true, 4)]
    [InlineData(4, 3, 2, 1, true, 3)]
    [InlineData(5, 3, 3, 1, false, 2)]
    [InlineData(5, 3, 3, 1, true, 2)] // ceil would give 3, but that window would start in the right padding: PyTorch drops it
    [InlineData(112, 3, 2, 1, false, 56)]
    [InlineData(7, 3, 2, 0, true, 3)]
    [InlineData(8, 3, 2, 0, true, 4)]
    public void Output_size_follows_pytorch_including_ceil_mode(int input, int kernel, int stride, int pad, bool ceil, int expected)
    {
        var g = MakePool(1, 1, input, input, kernel, kernel, stride, stride, pad, pad, pad, pad, ceil: ceil);
        g.Validate();
        Assert.Equal(expected, g.OutHeight);
        Assert.Equal(expected, g.OutWidth);
    }

    [Fact]
    public void Invalid_geometry_and_short_buffers_throw_with_the_numbers()
    {
        var e = Assert.Throws<ArgumentException>(() => MakePool(1, 1, 3, 3, 5, 1).Validate());
        Assert.Contains("5", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => MakePool(1, 1, 3, 3, 2, 2, 0, 1).Validate());
        Assert.Throws<ArgumentException>(() => MakePool(1, 1, 3, 3, 2, 2, pt: -1).Validate());
        var g = MakePool(2, 2, 4, 4, 2, 2, 2, 2);
        var s = Assert.Throws<ArgumentException>(() => Pooling.AverageForward(g, new float[64], new float[15]));
        Assert.Contains("15", s.Message, StringComparison.Ordinal);
        Assert.Contains("16", s.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => Pooling.MaxForward(g, new float[64], new float[16], new int[3]));
        Assert.Throws<ArgumentException>(() => Pooling.GlobalAverageForward(2, 3, 4, new float[23], new float[6]));
        Assert.Throws<ArgumentException>(() => Pooling.GlobalAverageBackward(2, 3, 0, new float[6], new float[6]));
    }
}
