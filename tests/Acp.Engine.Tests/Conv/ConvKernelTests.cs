using Acp.Engine.Kernels;
using static Acp.Engine.Tests.Conv.ConvTestSupport;

namespace Acp.Engine.Tests.Conv;

/// <summary>
/// The float convolution kernels against the double reference on many geometries, with guard elements around every
/// buffer, plus determinism and argument validation.
/// </summary>
public sealed class ConvKernelTests
{
    private const double Tolerance = 1e-4;

    public static TheoryData<string> Cases => ConvCases.ConvNames;

    /// <summary>Every kernel path (GEMM, spatial direct, by-channel direct): each runs where it applies, GEMM elsewhere.</summary>
    private static readonly Conv2d.Path?[] Paths = [null, Conv2d.Path.Gemm, Conv2d.Path.Spatial, Conv2d.Path.ByChannel];

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_matches_reference(string name)
    {
        var g = ConvCases.Convolutions[name];
        var rng = new Random(name.GetHashCode(StringComparison.Ordinal));
        var x = RandomFloats(rng, g.InputLength);
        var w = RandomFloats(rng, g.WeightLength);
        var b = RandomFloats(rng, g.OutChannels);
        var expectedWithBias = Reference.ConvForward(g, ToDouble(x, x.Length), ToDouble(w, w.Length), ToDouble(b, b.Length));
        var expected = Reference.ConvForward(g, ToDouble(x, x.Length), ToDouble(w, w.Length), null);

        foreach (var path in Paths)
        {
            foreach (var withBias in new[] { true, false })
            {
                var y = Output(g.OutputLength);
                WithPath(path, () => Conv2d.Forward(g, Input(x), Input(w), withBias ? Input(b) : null, y));
                AssertClose(withBias ? expectedWithBias : expected, y, Tolerance, $"{g} y (bias {withBias}, path {path})");
                AssertSentinels(y, g.OutputLength, $"{g} y (path {path})");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Backward_data_matches_reference(string name)
    {
        var g = ConvCases.Convolutions[name];
        var rng = new Random(name.GetHashCode(StringComparison.Ordinal) + 1);
        var dy = RandomFloats(rng, g.OutputLength);
        var w = RandomFloats(rng, g.WeightLength);
        var expected = Reference.ConvBackwardData(g, ToDouble(dy, dy.Length), ToDouble(w, w.Length));

        foreach (var path in Paths)
        {
            var dx = Output(g.InputLength);
            WithPath(path, () => Conv2d.BackwardData(g, Input(dy), Input(w), dx));
            AssertClose(expected, dx, Tolerance, $"{g} dx (path {path})");
            AssertSentinels(dx, g.InputLength, $"{g} dx (path {path})");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Backward_filter_matches_reference(string name)
    {
        var g = ConvCases.Convolutions[name];
        var rng = new Random(name.GetHashCode(StringComparison.Ordinal) + 2);
        var x = RandomFloats(rng, g.InputLength);
        var dy = RandomFloats(rng, g.OutputLength);
        var (expectedDw, expectedDb) = Reference.ConvBackwardFilter(g, ToDouble(x, x.Length), ToDouble(dy, dy.Length));

        foreach (var path in Paths)
        {
            var dw = Output(g.WeightLength);
            var db = Output(g.OutChannels);
            WithPath(path, () => Conv2d.BackwardFilter(g, Input(x), Input(dy), dw, db));
            AssertClose(expectedDw, dw, Tolerance, $"{g} dw (path {path})");
            AssertClose(expectedDb, db, Tolerance, $"{g} dbias (path {path})");
            AssertSentinels(dw, g.WeightLength, $"{g} dw (path {path})");
            AssertSentinels(db, g.OutChannels, $"{g} dbias (path {path})");

            var dwOnly = Output(g.WeightLength);
            WithPath(path, () => Conv2d.BackwardFilter(g, Input(x), Input(dy), dwOnly, null));
            Assert.True(dw.AsSpan(0, (int)g.WeightLength).SequenceEqual(dwOnly.AsSpan(0, (int)g.WeightLength)), $"{g}: dw depends on whether dbias is asked for");
        }
    }

    /// <summary>Runs action with the kernel path pinned on this thread (null: the normal choice).</summary>
    internal static void WithPath(Conv2d.Path? path, Action action)
    {
        var saved = Conv2d.ForcedPath;
        Conv2d.ForcedPath = path;
        try
        {
            action();
        }
        finally
        {
            Conv2d.ForcedPath = saved;
        }
    }

    /// <summary>Shapes big enough that the batch is split into several slots, groups and channel blocks run in parallel.</summary>
    public static TheoryData<string> LargeCases => new(LargeGeometries.Keys);

    private static readonly Dictionary<string, ConvGeometry> LargeGeometries = new()
    {
        ["resnet 16->16 28x28"] = MakeConv(19, 16, 28, 28, 16, 3, 3, pt: 1, pl: 1, pb: 1, pr: 1),
        ["resnet 16->32 stride2"] = MakeConv(19, 16, 28, 28, 32, 3, 3, 2, 2, 1, 1, 1, 1),
        ["1x1 shortcut stride2"] = MakeConv(21, 16, 28, 28, 32, 1, 1, 2, 2),
        ["1x1 direct"] = MakeConv(17, 32, 14, 14, 64, 1, 1),
        ["depthwise"] = MakeConv(23, 32, 14, 14, 32, 3, 3, pt: 1, pl: 1, pb: 1, pr: 1, groups: 32),
        ["resnet 32->32 14x14"] = MakeConv(21, 32, 14, 14, 32, 3, 3, pt: 1, pl: 1, pb: 1, pr: 1),
        ["resnet 64->64 7x7"] = MakeConv(19, 64, 7, 7, 64, 3, 3, pt: 1, pl: 1, pb: 1, pr: 1),
        ["resnet 32->64 stride2"] = MakeConv(17, 32, 14, 14, 64, 3, 3, 2, 2, 1, 1, 1, 1),
        // More than 512 KiB of packed weights: the by-channel forward (and the data gradient, a forward of the
        // transposed geometry) runs slice by slice of output channels; 9 and 11 vectors end in a one-vector slice.
        ["deep 144->144 7x7 weight slices"] = MakeConv(3, 144, 7, 7, 144, 3, 3, pt: 1, pl: 1, pb: 1, pr: 1),
        ["deep 128->176 stride2 weight slices"] = MakeConv(2, 128, 14, 14, 176, 3, 3, 2, 2, 1, 1, 1, 1),
        ["batch1 48 channels"] = MakeConv(1, 32, 15, 15, 48, 3, 3, pt: 1, pl: 1, pb: 1, pr: 1),
        ["batch1 wide"] = MakeConv(1, 24, 33, 35, 40, 3, 3, pt: 1, pl: 1, pb: 1, pr: 1),
        ["batch1 grouped"] = MakeConv(1, 32, 20, 20, 32, 3, 3, pt: 1, pl: 1, pb: 1, pr: 1, groups: 4),
        ["large image bands"] = MakeConv(2, 8, 150, 130, 8, 3, 3, pt: 1, pl: 1, pb: 1, pr: 1),
        ["large image bands stride2"] = MakeConv(1, 16, 200, 180, 8, 3, 3, 2, 2, 1, 1, 1, 1),
        ["small images grouped"] = MakeConv(40, 16, 7, 7, 16, 3, 3, pt: 1, pl: 1, pb: 1, pr: 1, groups: 2),
        ["small images odd stride2 asym"] = MakeConv(30, 6, 9, 11, 8, 3, 3, 2, 2, 0, 1, 1, 0),
        ["small images dilated"] = MakeConv(25, 4, 12, 12, 6, 3, 3, pt: 2, pl: 2, pb: 2, pr: 2, dh: 2, dw: 2),
        ["small images stride3"] = MakeConv(20, 3, 13, 14, 5, 3, 3, 3, 3, 1, 1, 1, 1),
    };

    [Fact]
    public void Weight_slices_over_blocks_of_images_give_each_image_the_bits_it_gets_alone()
    {
        // 590 KB of packed weights: the by-channel kernel runs slice-major, copying the padded inputs into canvases
        // 18 images at a time (a 16 MB budget at 128 × 42 × 42), so a batch of 20 runs as two blocks. Each image must
        // come out as it does alone; the reference comparisons above check the sums themselves.
        const int batch = 20;
        var g = MakeConv(batch, 128, 40, 40, 128, 3, 3, pt: 1, pl: 1, pb: 1, pr: 1);
        var one = MakeConv(1, 128, 40, 40, 128, 3, 3, pt: 1, pl: 1, pb: 1, pr: 1);
        Assert.True(!Conv2d.ForwardRunsByChannel(g) || (long)128 * 42 * 42 * batch > 4L * 1024 * 1024, "the batch should span two canvas blocks");
        var rng = new Random(11);
        var x = RandomFloats(rng, g.InputLength);
        var w = RandomFloats(rng, g.WeightLength, 0.2f);
        var b = RandomFloats(rng, g.OutChannels);
        var residual = RandomFloats(rng, g.OutputLength);
        var y = new float[g.OutputLength];
        Conv2d.Forward(g, x, w, b, y, new ConvEpilogue(residual, Relu: true));
        var dx = new float[g.InputLength];
        Conv2d.BackwardData(g, residual, w, dx);

        for (var n = 0; n < batch; n += 19)
        {
            var xn = x.AsSpan((int)(n * one.InputLength), (int)one.InputLength).ToArray();
            var rn = residual.AsSpan((int)(n * one.OutputLength), (int)one.OutputLength).ToArray();
            var yn = new float[one.OutputLength];
            Conv2d.Forward(one, xn, w, b, yn, new ConvEpilogue(rn, Relu: true));
            Assert.True(BitwiseEqual(yn, y.AsSpan((int)(n * one.OutputLength), (int)one.OutputLength).ToArray()), $"image {n}: forward differs from its run alone");
            var dxn = new float[one.InputLength];
            Conv2d.BackwardData(one, rn, w, dxn);
            Assert.True(BitwiseEqual(dxn, dx.AsSpan((int)(n * one.InputLength), (int)one.InputLength).ToArray()), $"image {n}: data gradient differs from its run alone");
        }
    }

    [Theory]
    [InlineData("deep 144->144 7x7 weight slices")]
    [InlineData("deep 128->176 stride2 weight slices")]
    public void Deep_layers_whose_canvas_exceeds_the_budget_run_image_major_with_the_same_bits(string name)
    {
        // Deep layers normally run slice-major over the whole batch; one whose image canvas exceeds the canvas budget
        // runs image after image, slice by slice within each image. Same tiles, so the same bits; the slice-major run
        // is checked against the reference in the large-shape test.
        var g = LargeGeometries[name];
        var rng = new Random(name.Length + 7);
        var x = RandomFloats(rng, g.InputLength);
        var w = RandomFloats(rng, g.WeightLength, 0.2f);
        var b = RandomFloats(rng, g.OutChannels);
        var residual = RandomFloats(rng, g.OutputLength);
        var dy = RandomFloats(rng, g.OutputLength);
        float[] y1 = new float[g.OutputLength], y2 = new float[g.OutputLength], dx1 = new float[g.InputLength], dx2 = new float[g.InputLength];
        Conv2d.Forward(g, x, w, b, y1, new ConvEpilogue(residual, Relu: true));
        Conv2d.BackwardData(g, dy, w, dx1);
        ConvByChannel.ForcedCanvasBudget = 1;
        try
        {
            Conv2d.Forward(g, x, w, b, y2, new ConvEpilogue(residual, Relu: true));
            Conv2d.BackwardData(g, dy, w, dx2);
        }
        finally
        {
            ConvByChannel.ForcedCanvasBudget = null;
        }
        Assert.True(BitwiseEqual(y1, y2), $"{name}: forward differs between the loop orders");
        Assert.True(BitwiseEqual(dx1, dx2), $"{name}: data gradient differs between the loop orders");
        Assert.Contains(y1, v => v > 0f);
    }

    [Theory]
    [MemberData(nameof(LargeCases))]
    public void Large_shapes_match_reference_and_filter_gradient_is_deterministic(string name)
    {
        var g = LargeGeometries[name];
        var rng = new Random(name.Length);
        var x = RandomFloats(rng, g.InputLength);
        var w = RandomFloats(rng, g.WeightLength, 0.2f);
        var dy = RandomFloats(rng, g.OutputLength);
        var xd = ToDouble(x, x.Length);
        var dyd = ToDouble(dy, dy.Length);
        var expectedY = Reference.ConvForward(g, xd, ToDouble(w, w.Length), null);
        var expectedDx = Reference.ConvBackwardData(g, dyd, ToDouble(w, w.Length));
        var (edw, edb) = Reference.ConvBackwardFilter(g, xd, dyd);

        foreach (var path in Paths)
        {
            var y = Output(g.OutputLength);
            WithPath(path, () => Conv2d.Forward(g, Input(x), Input(w), null, y));
            AssertClose(expectedY, y, Tolerance, $"{name} y (path {path})");
            AssertSentinels(y, g.OutputLength, $"{name} y");

            var dx = Output(g.InputLength);
            WithPath(path, () => Conv2d.BackwardData(g, Input(dy), Input(w), dx));
            AssertClose(expectedDx, dx, Tolerance, $"{name} dx (path {path})");
            AssertSentinels(dx, g.InputLength, $"{name} dx");

            var dw1 = Output(g.WeightLength);
            var db1 = Output(g.OutChannels);
            WithPath(path, () => Conv2d.BackwardFilter(g, Input(x), Input(dy), dw1, db1));
            AssertClose(edw, dw1, Tolerance, $"{name} dw (path {path})");
            AssertClose(edb, db1, Tolerance, $"{name} dbias (path {path})");
            AssertSentinels(dw1, g.WeightLength, $"{name} dw");

            // Determinism: fresh copies of the inputs (other addresses, other thread interleavings) give the same bits.
            for (var repeat = 0; repeat < 2; repeat++)
            {
                var dw2 = Output(g.WeightLength);
                var db2 = Output(g.OutChannels);
                WithPath(path, () => Conv2d.BackwardFilter(g, Input(x), Input(dy), dw2, db2));
                Assert.True(BitwiseEqual(dw1, dw2), $"{name}: BackwardFilter dw differs between runs (path {path})");
                Assert.True(BitwiseEqual(db1, db2), $"{name}: BackwardFilter dbias differs between runs (path {path})");
                var y2 = Output(g.OutputLength);
                WithPath(path, () => Conv2d.Forward(g, Input(x), Input(w), null, y2));
                Assert.True(BitwiseEqual(y, y2), $"{name}: Forward differs between runs (path {path})");
                var dx2 = Output(g.InputLength);
                WithPath(path, () => Conv2d.BackwardData(g, Input(dy), Input(w), dx2));
                Assert.True(BitwiseEqual(dx, dx2), $"{name}: BackwardData differs between runs (path {path})");
            }
        }
    }

    [Fact]
    public void Empty_batch_zeroes_the_filter_gradients_and_touches_nothing_else()
    {
        var g = MakeConv(0, 4, 5, 5, 3, 3, 3, pt: 1, pl: 1, pb: 1, pr: 1);
        var dw = Output(g.WeightLength);
        var db = Output(g.OutChannels);
        Conv2d.BackwardFilter(g, [], [], dw, db);
        Assert.All(dw.Take((int)g.WeightLength), v => Assert.Equal(0f, v));
        Assert.All(db.Take(g.OutChannels), v => Assert.Equal(0f, v));
        var y = Output(0);
        Conv2d.Forward(g, [], new float[g.WeightLength], null, y);
        AssertSentinels(y, 0, "y");
    }

    [Theory]
    [InlineData(28, 3, 1, 1, 1, 1, 28)]
    [InlineData(28, 3, 2, 1, 1, 1, 14)]
    [InlineData(7, 3, 2, 0, 0, 1, 3)]
    [InlineData(7, 3, 1, 2, 0, 1, 7)]
    [InlineData(10, 3, 1, 0, 0, 2, 6)]
    [InlineData(5, 5, 1, 0, 0, 1, 1)]
    public void Output_size_follows_the_onnx_formula(int input, int kernel, int stride, int padBefore, int padAfter, int dilation, int expected)
    {
        var g = new ConvGeometry(1, 1, input, input, 1, kernel, kernel, stride, stride, padBefore, padBefore, padAfter, padAfter, dilation, dilation, 1);
        g.Validate();
        Assert.Equal(expected, g.OutHeight);
        Assert.Equal(expected, g.OutWidth);
    }

    [Theory]
    [InlineData("groups", 1, 6, 5, 5, 4, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 4, "4")]
    [InlineData("stride", 1, 4, 5, 5, 4, 3, 3, 0, 1, 0, 0, 0, 0, 1, 1, 1, "0")]
    [InlineData("pad", 1, 4, 5, 5, 4, 3, 3, 1, 1, -1, 0, 0, 0, 1, 1, 1, "-1")]
    [InlineData("kernel too large", 1, 4, 5, 5, 4, 7, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1, "7")]
    [InlineData("dilated kernel too large", 1, 4, 5, 5, 4, 3, 3, 1, 1, 0, 0, 0, 0, 3, 1, 1, "7")]
    [InlineData("dilation", 1, 4, 5, 5, 4, 3, 3, 1, 1, 0, 0, 0, 0, 1, 0, 1, "0")]
    public void Invalid_geometry_throws_with_the_numbers(string what, int n, int cin, int h, int w, int cout, int kh, int kw,
        int sh, int sw, int pt, int pl, int pb, int pr, int dh, int dw, int groups, string number)
    {
        var g = new ConvGeometry(n, cin, h, w, cout, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, groups);
        var e = Assert.Throws<ArgumentException>(g.Validate);
        Assert.Contains(number, e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => Conv2d.Forward(g, new float[1000], new float[1000], null, new float[1000]));
        Assert.False(string.IsNullOrEmpty(what));
    }

    [Fact]
    public void Short_buffers_throw_with_the_sizes()
    {
        var g = MakeConv(2, 3, 5, 5, 4, 3, 3, pt: 1, pl: 1, pb: 1, pr: 1);
        var x = new float[g.InputLength];
        var w = new float[g.WeightLength];
        var y = new float[g.OutputLength];
        var e = Assert.Throws<ArgumentException>(() => Conv2d.Forward(g, x, w, null, new float[g.OutputLength - 1]));
        Assert.Contains($"{g.OutputLength - 1}", e.Message, StringComparison.Ordinal);
        Assert.Contains($"{g.OutputLength}", e.Message, StringComparison.Ordinal);
        Assert.Equal("y", e.ParamName);
        Assert.Throws<ArgumentException>(() => Conv2d.Forward(g, new float[g.InputLength - 1], w, null, y));
        Assert.Throws<ArgumentException>(() => Conv2d.Forward(g, x, w, new float[3], y));
        Assert.Throws<ArgumentException>(() => Conv2d.BackwardData(g, y, new float[g.WeightLength - 1], x));
        Assert.Throws<ArgumentException>(() => Conv2d.BackwardFilter(g, x, y, w, new float[1]));
        Assert.Throws<ArgumentException>(() => Conv2d.BackwardFilter(g, x, new float[3], w, null));
    }

    internal static bool BitwiseEqual(float[] a, float[] b) =>
        a.Length == b.Length && a.Select(BitConverter.SingleToInt32Bits).SequenceEqual(b.Select(BitConverter.SingleToInt32Bits));
}
