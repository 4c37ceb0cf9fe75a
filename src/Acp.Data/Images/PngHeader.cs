using System.Buffers.Binary;

namespace Acp.Data.Images;

/// <summary>PNG colour types (the IHDR byte).</summary>
internal enum PngColorType : byte
{
    Gray = 0,
    Rgb = 2,
    Palette = 3,
    GrayAlpha = 4,
    Rgba = 6,
}

/// <summary>The fields of a PNG's IHDR chunk that decoding needs, validated.</summary>
internal readonly record struct PngHeader(int Width, int Height, int BitDepth, PngColorType ColorType, bool Interlaced)
{
    /// <summary>Samples stored per pixel: 1 for grey and palette indices, 2 grey+alpha, 3 RGB, 4 RGBA.</summary>
    public int SamplesPerPixel => ColorType switch
    {
        PngColorType.Gray or PngColorType.Palette => 1,
        PngColorType.GrayAlpha => 2,
        PngColorType.Rgb => 3,
        _ => 4,
    };

    /// <summary>Bits per stored pixel.</summary>
    public int BitsPerPixel => SamplesPerPixel * BitDepth;

    /// <summary>The distance in bytes to the "left" byte the filters refer to: whole bytes per pixel, at least 1.</summary>
    public int FilterStride => Math.Max(1, BitsPerPixel / 8);

    /// <summary>Bytes of one stored row of <paramref name="pixels"/> pixels, without its filter byte.</summary>
    public int RowBytes(int pixels) => (int)(((long)pixels * BitsPerPixel + 7) / 8);

    /// <summary>Channels of the decoded image: grey (1) for grey and grey+alpha, RGB (3) for the rest.</summary>
    public int DecodedChannels => ColorType is PngColorType.Gray or PngColorType.GrayAlpha ? 1 : 3;

    /// <summary>Reads and checks the 13 bytes of IHDR.</summary>
    /// <exception cref="DatasetException">A field is invalid, or the image is too large to decode.</exception>
    public static PngHeader Parse(ReadOnlySpan<byte> data, string path)
    {
        if (data.Length != 13) throw new DatasetException(path, $"the IHDR chunk holds {data.Length} bytes; PNG's IHDR holds 13.");
        var width = BinaryPrimitives.ReadUInt32BigEndian(data);
        var height = BinaryPrimitives.ReadUInt32BigEndian(data[4..]);
        int depth = data[8], colorType = data[9], compression = data[10], filter = data[11], interlace = data[12];
        ImageLimits.Check((int)Math.Min(width, int.MaxValue), (int)Math.Min(height, int.MaxValue), path, "PNG");
        var allowed = colorType switch
        {
            0 => new[] { 1, 2, 4, 8, 16 },
            3 => [1, 2, 4, 8],
            2 or 4 or 6 => [8, 16],
            _ => throw new DatasetException(path, $"the IHDR announces colour type {colorType}; PNG defines 0 (grey), 2 (RGB), 3 (palette), 4 (grey+alpha) and 6 (RGBA)."),
        };
        if (Array.IndexOf(allowed, depth) < 0)
        {
            throw new DatasetException(path, $"the IHDR announces bit depth {depth} for colour type {colorType}; PNG allows {string.Join(", ", allowed)}.");
        }
        if (compression != 0) throw new DatasetException(path, $"the IHDR announces compression method {compression}; PNG defines only 0 (zlib).");
        if (filter != 0) throw new DatasetException(path, $"the IHDR announces filter method {filter}; PNG defines only 0.");
        if (interlace > 1) throw new DatasetException(path, $"the IHDR announces interlace method {interlace}; PNG defines 0 (none) and 1 (Adam7).");
        return new PngHeader((int)width, (int)height, depth, (PngColorType)colorType, interlace == 1);
    }
}
