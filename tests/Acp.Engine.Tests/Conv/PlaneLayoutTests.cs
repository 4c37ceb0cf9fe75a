using Acp.Engine.Kernels;
using static Acp.Engine.Tests.Conv.ConvTestSupport;

namespace Acp.Engine.Tests.Conv;

/// <summary>
/// The by-channel convolution reading its input in place from a padded canvas layout and writing its output and
/// reading its residual in padded layouts: the dense run of the same convolution is the oracle (same arithmetic, so
/// the same bits), and nothing but output pixels may be written.
/// </summary>
public sealed class PlaneLayoutTests
{
    public static TheoryData<string> Shapes => new(Geometries.Keys);

    private static readonly Dictionary<string, ConvGeometry> Geometries = new()
    {
        ["16->16 10x10"] = MakeConv(3, 16, 10, 10, 16, 3, 3, pt: 1, pl: 1, pb: 1, pr: 1),
        ["32->64 stride 2 9x9"] = MakeConv(2, 32, 9, 9, 64, 3, 3, 2, 2, 1, 1, 1, 1),
        ["64->64 7x7 (paired rows)"] = MakeConv(2, 64, 7, 7, 64, 3, 3, pt: 1, pl: 1, pb: 1, pr: 1),
        ["16->48 15x15, one image (row chunks)"] = MakeConv(1, 16, 15, 15, 48, 3, 3, pt: 1, pl: 1, pb: 1, pr: 1),
        // 663 KB of packed weights: slice-major, the last slice one vector wide.
        ["128->144 7x7 (weight slices)"] = MakeConv(2, 128, 7, 7, 144, 3, 3, pt: 1, pl: 1, pb: 1, pr: 1),
    };

    /// <summary>Copies dense NCHW planes into a buffer of the given layout, sentinel NaN outside the pixels unless zero.</summary>
    private static float[] Scatter(float[] dense, int images, int channels, int height, int width, PlaneLayout layout, float outside)
    {
        var buffer = Enumerable.Repeat(outside, images * channels * layout.Plane).ToArray();
        for (var p = 0; p < images * channels; p++)
        {
            for (var r = 0; r < height; r++)
            {
                for (var c = 0; c < width; c++) buffer[p * layout.Plane + layout.At(r, c)] = dense[(p * height + r) * width + c];
            }
        }
        return buffer;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Padded_input_output_and_residual_give_the_dense_bits(string name)
    {
        var g = Geometries[name];
        if (!Conv2d.ForwardRunsByChannel(g)) return; // no AVX-512 here: the refusal test below covers this machine
        var rng = new Random(name.Length * 31 + 5);
        var x = RandomFloats(rng, g.InputLength);
        var w = RandomFloats(rng, g.WeightLength);
        var b = RandomFloats(rng, g.OutChannels);
        var residual = RandomFloats(rng, g.OutputLength);
        var dense = new float[g.OutputLength];
        Conv2d.Forward(g, x, w, b, dense, new ConvEpilogue(residual, Relu: true));

        var canvas = ConvByChannel.CanvasLayout(g)!.Value;
        var output = new PlaneLayout((g.OutHeight + 3) * (g.OutWidth + 2), g.OutWidth + 2, 2 * (g.OutWidth + 2) + 1);
        var residualLayout = new PlaneLayout((g.OutHeight + 1) * (g.OutWidth + 4) + 5, g.OutWidth + 4, 3);
        var paddedX = Scatter(x, g.Batch, g.InChannels, g.InHeight, g.InWidth, canvas, 0f);
        var paddedResidual = Scatter(residual, g.Batch, g.OutChannels, g.OutHeight, g.OutWidth, residualLayout, float.NaN);
        var y = Enumerable.Repeat(float.NaN, g.Batch * g.OutChannels * output.Plane).ToArray();

        Conv2d.Forward(g, paddedX, w, b, y, new ConvEpilogue(paddedResidual, Relu: true), new ConvLayouts(canvas, output, residualLayout));

        var expected = Scatter(dense, g.Batch, g.OutChannels, g.OutHeight, g.OutWidth, output, float.NaN);
        for (var i = 0; i < y.Length; i++)
        {
            // NaN outside the pixels must stay NaN (nothing else written), and the pixels must equal the dense run.
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(y[i]), $"{name}: element {i} is {y[i]}, expected {expected[i]}");
        }
    }

    [Fact]
    public void A_layout_the_kernel_cannot_read_is_refused()
    {
        var g = Geometries["16->16 10x10"];
        var canvas = ConvByChannel.CanvasLayout(g)!.Value;
        var x = new float[g.Batch * g.InChannels * canvas.Plane];
        var y = new float[g.OutputLength];
        var w = new float[g.WeightLength];
        if (!Conv2d.ForwardRunsByChannel(g))
        {
            Assert.Throws<ArgumentException>(() => Conv2d.Forward(g, x, w, null, y, ConvEpilogue.None, new ConvLayouts(canvas, null, null)));
            return;
        }
        // One column further right, the last tap of a row would read the next row's first pixel.
        var shifted = canvas with { Origin = canvas.Origin + 1 };
        var wrong = Assert.Throws<ArgumentException>(() => Conv2d.Forward(g, x, w, null, y, ConvEpilogue.None, new ConvLayouts(shifted, null, null)));
        Assert.Contains("in place", wrong.Message, StringComparison.Ordinal);
        var small = Assert.Throws<ArgumentException>(() => Conv2d.Forward(g, new float[g.InputLength], w, null, y, ConvEpilogue.None, new ConvLayouts(canvas, null, null)));
        Assert.Contains("input in its layout", small.Message, StringComparison.Ordinal);
        var output = PlaneLayout.Dense(g.OutHeight + 2, g.OutWidth + 2);
        var smallOut = Assert.Throws<ArgumentException>(() => Conv2d.Forward(g, x, w, null, y, ConvEpilogue.None, new ConvLayouts(canvas, output, null)));
        Assert.Contains("output in its layout", smallOut.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// The cells the convolution reads, brute force from its definition, counted from the plane's start: input
    /// (oh·s − pad + i·d, ow·s − pad + j·d) for every output and tap. A layout may be read in place when every such cell
    /// lies in the plane and is either that very pixel or a cell no pixel occupies (zero in a padded buffer).
    /// </summary>
    private static bool EveryReadIsSafe(ConvGeometry g, PlaneLayout layout)
    {
        var pixels = new HashSet<long>();
        for (var r = 0; r < g.InHeight; r++)
        {
            for (var c = 0; c < g.InWidth; c++) pixels.Add(layout.At(r, c));
        }
        for (var oh = 0; oh < g.OutHeight; oh++)
        {
            for (var ow = 0; ow < g.OutWidth; ow++)
            {
                for (var i = 0; i < g.KernelHeight; i++)
                {
                    for (var j = 0; j < g.KernelWidth; j++)
                    {
                        int r = oh * g.StrideH - g.PadTop + i * g.DilationH, c = ow * g.StrideW - g.PadLeft + j * g.DilationW;
                        long at = (long)layout.Origin + (long)r * layout.Pitch + c;
                        var isPixel = r >= 0 && r < g.InHeight && c >= 0 && c < g.InWidth;
                        if (at < 0 || at >= layout.Plane || (!isPixel && pixels.Contains(at))) return false;
                    }
                }
            }
        }
        return true;
    }

    [Fact]
    public void Any_layout_the_kernel_reads_in_place_gives_the_dense_bits()
    {
        // Random layers (3x3 or 1x1, stride 1 or 2, padding 0-2 per side) against random layouts with margins 0-2 on each
        // side: whenever ReadsInPlace says yes, the brute-force check agrees that no read leaves the plane or lands
        // on another pixel, and the run from that buffer (zeros around the pixels) equals the dense run bit for bit.
        // Every layer's own canvas must be accepted, and so must the canvas of a padded 3x3 layer for a 1x1 shortcut.
        var rng = new Random(2024);
        int accepted = 0, refused = 0, compared = 0;
        for (var trial = 0; trial < 150; trial++)
        {
            var kernel = rng.Next(2) == 0 ? 1 : 3;
            var stride = rng.Next(1, 3);
            // Padding 0-2 on each side, not necessarily symmetric, for 3x3 layers.
            int Pad() => kernel == 3 ? rng.Next(3) : 0;
            var (pt, pl, pb, pr) = (Pad(), Pad(), Pad(), Pad());
            var size = rng.Next(7 * stride, 7 * stride + 5);
            var g = MakeConv(2, 16, size, size, 16 * rng.Next(1, 3), kernel, kernel, stride, stride, pt, pl, pb, pr);
            var (top, left, right, bottom) = (rng.Next(3), rng.Next(3), rng.Next(3), rng.Next(3));
            var pitch = left + size + right;
            var layout = new PlaneLayout((top + size + bottom) * pitch + rng.Next(3), pitch, top * pitch + left);
            var reads = ConvByChannel.ReadsInPlace(g, layout);
            if (!reads)
            {
                refused++;
                continue;
            }
            accepted++;
            Assert.True(EveryReadIsSafe(g, layout), $"trial {trial}: {g} accepted {layout}, but some read leaves its plane or hits another pixel");
            if (!Conv2d.ForwardRunsByChannel(g)) continue; // no AVX-512 here (or a unit-stride 1x1 layer): the rule alone is checked
            var x = RandomFloats(rng, g.InputLength);
            var w = RandomFloats(rng, g.WeightLength);
            var dense = new float[g.OutputLength];
            Conv2d.Forward(g, x, w, null, dense);
            var inPlace = new float[g.OutputLength];
            Conv2d.Forward(g, Scatter(x, g.Batch, g.InChannels, g.InHeight, g.InWidth, layout, 0f), w, null, inPlace, ConvEpilogue.None, new ConvLayouts(layout, null, null));
            Assert.True(dense.AsSpan().SequenceEqual(inPlace), $"trial {trial}: {g} read from {layout} differs from the dense run");
            compared++;
        }
        Assert.True(accepted >= 15 && refused >= 15, $"the trials should exercise both answers: {accepted} accepted, {refused} refused");
        var block = MakeConv(1, 16, 28, 28, 32, 3, 3, 2, 2, 1, 1, 1, 1);
        if (Conv2d.ForwardRunsByChannel(block)) Assert.True(compared >= 5, $"only {compared} in-place runs were compared");

        foreach (var g in Geometries.Values) Assert.True(ConvByChannel.ReadsInPlace(g, ConvByChannel.CanvasLayout(g)!.Value), $"{g}: its own canvas");
        var shortcut = MakeConv(1, 16, 28, 28, 32, 1, 1, 2, 2, 0, 0, 0, 0);
        Assert.True(ConvByChannel.ReadsInPlace(shortcut, ConvByChannel.CanvasLayout(block)!.Value), "a 1x1 shortcut reads its padded neighbour's canvas");
        Assert.True(ConvByChannel.ReadsInPlace(shortcut, PlaneLayout.Dense(28, 28)), "an unpadded 1x1 stride-2 layer reads dense planes in place");
        Assert.False(ConvByChannel.ReadsInPlace(block, PlaneLayout.Dense(28, 28)), "a padded layer cannot read dense planes in place");
    }

    [Fact]
    public void A_stride_two_canvas_that_drops_the_last_row_has_no_layout()
    {
        // A 1x1 stride-2 layer without padding never reads an even-sized input's last row and column, so its canvas
        // cannot hold the value in place; a padded stride-2 3x3 layer reads every pixel.
        var shortcut = MakeConv(1, 16, 10, 10, 32, 1, 1, 2, 2, 0, 0, 0, 0);
        Assert.Null(ConvByChannel.CanvasLayout(shortcut));
        Assert.NotNull(ConvByChannel.CanvasLayout(Geometries["32->64 stride 2 9x9"]));
    }
}
