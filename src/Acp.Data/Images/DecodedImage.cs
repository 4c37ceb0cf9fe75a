namespace Acp.Data.Images;

/// <summary>
/// An image as a decoder produced it: 8 bits per sample, interleaved (row by row, the samples of one pixel
/// together), either grey-scale (1 channel) or RGB (3 channels). Alpha is already dropped and palettes expanded,
/// because a classification data set uses neither.
/// </summary>
internal sealed class DecodedImage
{
    public DecodedImage(int width, int height, int channels, byte[] pixels)
    {
        if (channels is not (1 or 3)) throw new ArgumentOutOfRangeException(nameof(channels), channels, "Decoded images are grey (1) or RGB (3).");
        if ((long)width * height * channels != pixels.Length)
        {
            throw new ArgumentException($"{width}×{height}×{channels} needs {(long)width * height * channels} bytes; got {pixels.Length}.", nameof(pixels));
        }
        Width = width;
        Height = height;
        Channels = channels;
        Pixels = pixels;
    }

    /// <summary>Columns.</summary>
    public int Width { get; }

    /// <summary>Rows.</summary>
    public int Height { get; }

    /// <summary>1 (grey) or 3 (RGB).</summary>
    public int Channels { get; }

    /// <summary>Height × width × channels bytes, interleaved.</summary>
    public byte[] Pixels { get; }
}
