namespace Acp.Data.Images;

/// <summary>Converts decoded images to the channel count a data set asks for, in the channel-major (CHW) layout of
/// <see cref="IImageDataset"/>.</summary>
internal static class PixelLayout
{
    /// <summary>
    /// Grey from RGB as PIL's <c>convert("L")</c> computes it: ITU-R 601-2 luma L = R·299/1000 + G·587/1000 + B·114/1000,
    /// in PIL's 16-bit fixed point with rounding (the weights 19595, 38470 and 7471 sum to 2^16).
    /// </summary>
    public static byte Luma(byte red, byte green, byte blue) => (byte)((red * 19595 + green * 38470 + blue * 7471 + 0x8000) >> 16);

    /// <summary>
    /// Writes <paramref name="image"/> as <paramref name="channels"/> planes into <paramref name="planes"/>
    /// (channels × height × width bytes): grey to RGB repeats the grey plane, RGB to grey takes the <see cref="Luma"/>.
    /// </summary>
    public static void ToPlanes(DecodedImage image, int channels, Span<byte> planes)
    {
        var plane = image.Width * image.Height;
        var source = image.Pixels.AsSpan();
        if (image.Channels == 1)
        {
            for (var c = 0; c < channels; c++) source.CopyTo(planes.Slice(c * plane, plane));
        }
        else if (channels == 3)
        {
            for (var p = 0; p < plane; p++)
            {
                planes[p] = source[3 * p];
                planes[plane + p] = source[3 * p + 1];
                planes[2 * plane + p] = source[3 * p + 2];
            }
        }
        else
        {
            for (var p = 0; p < plane; p++) planes[p] = Luma(source[3 * p], source[3 * p + 1], source[3 * p + 2]);
        }
    }
}
