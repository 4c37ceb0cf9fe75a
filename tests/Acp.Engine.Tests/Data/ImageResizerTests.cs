using Acp.Data.Images;

namespace Acp.Engine.Tests.Data;

/// <summary>
/// Resizing with centre crop. Two oracles: PIL's <c>resize(BILINEAR)</c> + <c>crop</c> (what torchvision's
/// <c>Resize</c> + <c>CenterCrop</c> give on PIL images), matched exactly because Acp reproduces PIL's fixed-point
/// arithmetic; and, for enlargement, where no antialiasing widens the filter, a textbook half-pixel-centre bilinear
/// interpolation written here in double precision, matched within 1 (PIL's arithmetic rounds to bytes between its
/// horizontal and vertical pass, which moves a result by less than one step).
/// </summary>
public sealed class ImageResizerTests
{
    [Fact]
    public void Resize_and_crop_match_PIL_exactly()
    {
        var cases = ImageFixtures.ResizeCases;
        foreach (var c in cases)
        {
            var (planes, height, width) = SourcePlanes(c.File, c.Channels);
            var actual = new byte[c.Channels * c.Height * c.Width];

            ImageResizer.ResizeAndCrop(planes, c.Channels, height, width, actual, c.Height, c.Width);

            ImageFixtures.AssertPixels(c.Expected, actual, c.ToString());
        }
        Assert.Equal(60, cases.Count);
    }

    [Fact]
    public void Scaled_size_and_crop_offset_are_torchvision_s()
    {
        foreach (var c in ImageFixtures.ResizeCases)
        {
            var (_, height, width) = SourcePlanes(c.File, 1);

            Assert.Equal(new ResizePlan(c.ScaledHeight, c.ScaledWidth, c.Top, c.Left), ResizePlan.For(height, width, c.Height, c.Width));
        }
        // Shorter side to the target, longer one ⌊long·target/short⌋, offsets round((scaled − target)/2) with halves to even.
        Assert.Equal(new ResizePlan(224, 298, 0, 37), ResizePlan.For(375, 500, 224, 224));
        Assert.Equal(new ResizePlan(5, 4, 0, 2), ResizePlan.For(5, 4, 5, 1)); // (4 − 1)/2 = 1.5 → 2
        Assert.Equal(new ResizePlan(5, 7, 0, 2), ResizePlan.For(5, 7, 5, 2)); // 2.5 → 2
    }

    [Fact]
    public void Enlarging_is_half_pixel_centre_bilinear()
    {
        var checkedPixels = 0;
        for (var height = 1; height <= 7; height++)
        {
            for (var width = 1; width <= 7; width += 2)
            {
                foreach (var (targetHeight, targetWidth) in new[] { (height * 3, width * 3), (height + 1, width + 4), (9, 13), (height, width + 2) })
                {
                    if (targetHeight < height || targetWidth < width) continue;
                    var source = Pattern(2 * height * width, seed: height * 31 + width);
                    var plan = ResizePlan.For(height, width, targetHeight, targetWidth);
                    if (plan.ScaledHeight < height || plan.ScaledWidth < width) continue;
                    var actual = new byte[2 * targetHeight * targetWidth];

                    ImageResizer.ResizeAndCrop(source, 2, height, width, actual, targetHeight, targetWidth);

                    for (var c = 0; c < 2; c++)
                    {
                        for (var y = 0; y < targetHeight; y++)
                        {
                            for (var x = 0; x < targetWidth; x++)
                            {
                                var expected = Bilinear(source.AsSpan(c * height * width, height * width), height, width,
                                    (y + plan.Top + 0.5) * height / plan.ScaledHeight - 0.5, (x + plan.Left + 0.5) * width / plan.ScaledWidth - 0.5);
                                var got = actual[(c * targetHeight + y) * targetWidth + x];
                                Assert.True(Math.Abs(got - expected) < 1,
                                    $"{height}×{width} → {targetHeight}×{targetWidth}, channel {c}, pixel ({y}, {x}): {got}, bilinear {expected}");
                                checkedPixels++;
                            }
                        }
                    }
                }
            }
        }
        Assert.True(checkedPixels > 5000);
    }

    [Fact]
    public void A_flat_image_stays_flat_at_any_size()
    {
        var source = Enumerable.Repeat((byte)77, 3 * 40 * 25).ToArray();
        foreach (var (h, w) in new[] { (1, 1), (7, 3), (40, 25), (100, 9), (13, 13) })
        {
            var actual = new byte[3 * h * w];

            ImageResizer.ResizeAndCrop(source, 3, 40, 25, actual, h, w);

            Assert.All(actual, v => Assert.Equal(77, v));
        }
    }

    [Fact]
    public void Same_size_is_a_copy()
    {
        var source = Pattern(3 * 6 * 5, seed: 4);
        var actual = new byte[source.Length];

        ImageResizer.ResizeAndCrop(source, 3, 6, 5, actual, 6, 5);

        Assert.Equal(source, actual);
    }

    /// <summary>
    /// Bilinear interpolation at source coordinates (<paramref name="sy"/>, <paramref name="sx"/>) (pixel centres at
    /// integers), coordinates clamped to the image so the border pixels extend outwards.
    /// </summary>
    private static double Bilinear(ReadOnlySpan<byte> plane, int height, int width, double sy, double sx)
    {
        sy = Math.Clamp(sy, 0, height - 1);
        sx = Math.Clamp(sx, 0, width - 1);
        int y0 = (int)Math.Floor(sy), x0 = (int)Math.Floor(sx);
        int y1 = Math.Min(y0 + 1, height - 1), x1 = Math.Min(x0 + 1, width - 1);
        double fy = sy - y0, fx = sx - x0;
        double top = plane[y0 * width + x0] * (1 - fx) + plane[y0 * width + x1] * fx;
        double bottom = plane[y1 * width + x0] * (1 - fx) + plane[y1 * width + x1] * fx;
        return top * (1 - fy) + bottom * fy;
    }

    private static byte[] Pattern(int count, int seed)
    {
        var random = new Random(seed);
        var bytes = new byte[count];
        random.NextBytes(bytes);
        return bytes;
    }

    /// <summary>A resize source as PIL decodes and converts it (from the decode oracle of the same file), CHW.</summary>
    private static (byte[] Planes, int Height, int Width) SourcePlanes(string file, int channels)
    {
        var path = ImageFixtures.PathOf(file);
        var image = PngDecoder.Decode(File.ReadAllBytes(path), path);
        var planes = new byte[channels * image.Width * image.Height];
        PixelLayout.ToPlanes(image, channels, planes);
        return (planes, image.Height, image.Width);
    }
}
