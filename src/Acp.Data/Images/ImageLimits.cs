namespace Acp.Data.Images;

/// <summary>
/// The largest image the decoders accept. A few hundred bytes of PNG or JPEG can announce an image of gigabytes (a
/// "decompression bomb"), so the announced size is checked before anything is allocated.
/// </summary>
internal static class ImageLimits
{
    /// <summary>Largest width or height.</summary>
    public const int MaxDimension = 16384;

    /// <summary>Largest width × height: 2^27 pixels (e.g. 11585 × 11585), 384 MiB as decoded RGB.</summary>
    public const long MaxPixels = 1L << 27;

    /// <summary>Throws when an image of <paramref name="width"/> × <paramref name="height"/> is empty or too large.</summary>
    /// <exception cref="DatasetException">It is.</exception>
    public static void Check(int width, int height, string path, string format)
    {
        if (width <= 0 || height <= 0)
        {
            throw new DatasetException(path, $"the {format} header announces an image of {width}×{height} pixels (width×height); both must be positive.");
        }
        if (width > MaxDimension || height > MaxDimension || (long)width * height > MaxPixels)
        {
            throw new DatasetException(path, $"the {format} header announces an image of {width}×{height} pixels (width×height), larger than the " +
                $"{MaxDimension} pixels per side and {MaxPixels} pixels in all that Acp decodes; a corrupt or malicious file, or an image to shrink first.");
        }
    }
}
