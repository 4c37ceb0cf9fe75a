using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Acp.Data.Images;

/// <summary>
/// Decodes PNG files (ISO/IEC 15948) to 8-bit grey or RGB: every colour type and bit depth, all five filter types,
/// Adam7 interlacing. Each chunk's CRC is checked. Ancillary chunks are skipped: tRNS and alpha because a
/// classifier's input has no transparency, gAMA/iCCP/sRGB because the stored samples are what image libraries
/// (and so the data sets made with them) use.
/// </summary>
/// <remarks>
/// Samples are brought to 8 bits as libpng's <c>png_set_strip_16</c> and PIL do: 16-bit samples keep their high byte;
/// 1-, 2- and 4-bit grey is scaled to 0..255 (× 255, 85, 17). A palette index beyond the palette gives black, as in
/// libpng and PIL. The compressed data is inflated row by row, so only two rows of it are held at a time.
/// </remarks>
internal static class PngDecoder
{
    private static ReadOnlySpan<byte> Signature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>The seven Adam7 passes: first column, first row, column step, row step.</summary>
    private static readonly (int X, int Y, int Dx, int Dy)[] Adam7 =
        [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)];

    private static readonly (int X, int Y, int Dx, int Dy)[] NotInterlaced = [(0, 0, 1, 1)];

    /// <summary>Whether <paramref name="file"/> starts with the PNG signature.</summary>
    public static bool HasSignature(ReadOnlySpan<byte> file) => file.StartsWith(Signature);

    /// <summary>Decodes a whole PNG file.</summary>
    /// <param name="file">The file's bytes.</param>
    /// <param name="path">The file, for error messages.</param>
    /// <exception cref="DatasetException">The file is not a PNG, is truncated or corrupt, or is too large.</exception>
    public static DecodedImage Decode(byte[] file, string path)
    {
        if (!HasSignature(file)) throw new DatasetException(path, "not a PNG file: the 8-byte PNG signature is missing.");
        PngHeader? header = null;
        byte[]? palette = null;
        using var compressed = new MemoryStream();
        var position = Signature.Length;
        while (true)
        {
            var remaining = file.Length - position;
            if (remaining < 12)
            {
                throw new DatasetException(path, remaining == 0
                    ? "truncated: the file ends before its IEND chunk."
                    : $"truncated: the {remaining} bytes at offset {position} are too few for a chunk (12 bytes at least).");
            }
            var length = BinaryPrimitives.ReadUInt32BigEndian(file.AsSpan(position));
            var type = file.AsSpan(position + 4, 4);
            var name = ChunkName(type);
            if (length > int.MaxValue)
            {
                throw new DatasetException(path, $"chunk {name} at offset {position} announces {length} bytes; PNG chunks hold at most 2^31−1.");
            }
            if (remaining - 12 < length)
            {
                throw new DatasetException(path, $"truncated: chunk {name} at offset {position} announces {length} bytes but only {remaining - 12} follow.");
            }
            var data = file.AsSpan(position + 8, (int)length);
            var stored = BinaryPrimitives.ReadUInt32BigEndian(file.AsSpan(position + 8 + (int)length));
            var computed = PngCrc.Compute(file.AsSpan(position + 4, 4 + (int)length));
            if (stored != computed)
            {
                throw new DatasetException(path, $"chunk {name} at offset {position} is corrupt: its CRC is {stored:x8} but its bytes give {computed:x8}.");
            }
            if (header is null && name != "IHDR")
            {
                throw new DatasetException(path, $"the first chunk is {name}; a PNG file starts with IHDR.");
            }
            position += 12 + (int)length;
            switch (name)
            {
                case "IHDR":
                    if (header is not null) throw new DatasetException(path, "holds a second IHDR chunk.");
                    header = PngHeader.Parse(data, path);
                    break;
                case "PLTE":
                    palette = ParsePalette(data, header!.Value, path);
                    break;
                case "IDAT":
                    compressed.Write(data);
                    break;
                case "IEND":
                    return DecodePixels(header!.Value, palette, compressed, path);
                default:
                    // Bit 5 of the first letter is 0 (upper case) for critical chunks, which a decoder must understand.
                    if ((type[0] & 0x20) == 0)
                    {
                        throw new DatasetException(path, $"holds the critical chunk {name}, which PNG does not define; the image cannot be decoded without it.");
                    }
                    break;
            }
        }
    }

    private static string ChunkName(ReadOnlySpan<byte> type)
    {
        foreach (var b in type)
        {
            if (!char.IsAsciiLetter((char)b)) return "0x" + Convert.ToHexString(type);
        }
        return Encoding.ASCII.GetString(type);
    }

    /// <summary>PLTE as a 256-entry RGB table; entries the file does not give stay black.</summary>
    private static byte[] ParsePalette(ReadOnlySpan<byte> data, PngHeader header, string path)
    {
        if (data.Length == 0 || data.Length % 3 != 0 || data.Length > 256 * 3)
        {
            throw new DatasetException(path, $"the PLTE chunk holds {data.Length} bytes; a palette is 1 to 256 RGB entries of 3 bytes.");
        }
        if (header.ColorType == PngColorType.Palette && data.Length / 3 > 1 << header.BitDepth)
        {
            throw new DatasetException(path, $"the PLTE chunk has {data.Length / 3} entries, more than {header.BitDepth}-bit indices can address.");
        }
        var palette = new byte[256 * 3];
        data.CopyTo(palette);
        return palette;
    }

    private static DecodedImage DecodePixels(PngHeader header, byte[]? palette, MemoryStream compressed, string path)
    {
        if (compressed.Length == 0) throw new DatasetException(path, "holds no IDAT chunk, so no image data.");
        if (header.ColorType == PngColorType.Palette && palette is null)
        {
            throw new DatasetException(path, "is a palette image without a PLTE chunk.");
        }
        var channels = header.DecodedChannels;
        var pixels = new byte[(long)header.Width * header.Height * channels];
        var rowBytes = header.RowBytes(header.Width);
        // Index 0 holds the row's filter type; an all-zero "previous row" is what the filters assume above row 0.
        var current = new byte[rowBytes + 1];
        var previous = new byte[rowBytes + 1];
        compressed.Position = 0;
        long inflated = 0;
        var expected = ExpectedDataBytes(header);
        try
        {
            using var zlib = new ZLibStream(compressed, CompressionMode.Decompress);
            var passes = header.Interlaced ? Adam7 : NotInterlaced;
            for (var p = 0; p < passes.Length; p++)
            {
                var pass = passes[p];
                var passWidth = PassSize(header.Width, pass.X, pass.Dx);
                var passHeight = PassSize(header.Height, pass.Y, pass.Dy);
                if (passWidth == 0 || passHeight == 0) continue;
                var passRowBytes = header.RowBytes(passWidth);
                Array.Clear(previous);
                for (var y = 0; y < passHeight; y++)
                {
                    var line = current.AsSpan(0, passRowBytes + 1);
                    var got = zlib.ReadAtLeast(line, line.Length, throwOnEndOfStream: false);
                    inflated += got;
                    if (got < line.Length)
                    {
                        throw new DatasetException(path, $"the image data ends early: it inflates to {inflated} bytes but a {header.Width}×{header.Height} " +
                            $"(width×height) image of colour type {(int)header.ColorType}, bit depth {header.BitDepth}{(header.Interlaced ? ", interlaced" : "")} needs {expected}.");
                    }
                    var row = line[1..];
                    Unfilter(line[0], row, previous.AsSpan(1, passRowBytes), header.FilterStride, path, y, header.Interlaced ? p + 1 : 0);
                    WriteRow(header, palette, row, pixels, pass.Y + y * pass.Dy, pass.X, pass.Dx, passWidth);
                    (current, previous) = (previous, current);
                }
            }
            // Reading on to the end of the zlib stream makes it verify its Adler-32 checksum. Data beyond the image
            // is tolerated, as libpng and PIL tolerate it.
            Span<byte> probe = stackalloc byte[1];
            _ = zlib.Read(probe);
        }
        catch (InvalidDataException e)
        {
            // .NET words every zlib failure as "unsupported compression method", which would mislead; say what is known.
            throw new DatasetException(path, $"the compressed image data (IDAT) is not valid zlib data (a bad header, block or checksum) " +
                $"after {inflated} of the {expected} bytes it should inflate to.", e);
        }
        return new DecodedImage(header.Width, header.Height, channels, pixels);
    }

    private static int PassSize(int size, int start, int step) => size <= start ? 0 : (size - start + step - 1) / step;

    /// <summary>Bytes the inflated image data must hold: each (pass) row's filter byte and samples.</summary>
    private static long ExpectedDataBytes(PngHeader header)
    {
        long total = 0;
        foreach (var pass in header.Interlaced ? Adam7 : NotInterlaced)
        {
            var width = PassSize(header.Width, pass.X, pass.Dx);
            var height = PassSize(header.Height, pass.Y, pass.Dy);
            if (width > 0) total += (long)height * (header.RowBytes(width) + 1);
        }
        return total;
    }

    /// <summary>Undoes the row's filter in place; <paramref name="previous"/> is the previous row of the same pass, unfiltered.</summary>
    private static void Unfilter(byte filter, Span<byte> row, ReadOnlySpan<byte> previous, int stride, string path, int y, int pass)
    {
        switch (filter)
        {
            case 0:
                break;
            case 1: // Sub: the byte one pixel to the left.
                for (var i = stride; i < row.Length; i++) row[i] += row[i - stride];
                break;
            case 2: // Up: the byte above.
                for (var i = 0; i < row.Length; i++) row[i] += previous[i];
                break;
            case 3: // Average of left and above, rounded down.
                for (var i = 0; i < stride; i++) row[i] += (byte)(previous[i] >> 1);
                for (var i = stride; i < row.Length; i++) row[i] += (byte)((row[i - stride] + previous[i]) >> 1);
                break;
            case 4: // Paeth: whichever of left, above, upper-left is nearest to left + above − upper-left.
                for (var i = 0; i < stride; i++) row[i] += previous[i];
                for (var i = stride; i < row.Length; i++) row[i] += Paeth(row[i - stride], previous[i], previous[i - stride]);
                break;
            default:
                throw new DatasetException(path, $"row {y}{(pass > 0 ? $" of interlace pass {pass}" : "")} has filter type {filter}; PNG defines 0 to 4.");
        }
    }

    private static byte Paeth(byte left, byte above, byte upperLeft)
    {
        var estimate = left + above - upperLeft;
        var toLeft = Math.Abs(estimate - left);
        var toAbove = Math.Abs(estimate - above);
        var toUpperLeft = Math.Abs(estimate - upperLeft);
        if (toLeft <= toAbove && toLeft <= toUpperLeft) return left;
        return toAbove <= toUpperLeft ? above : upperLeft;
    }

    /// <summary>
    /// Writes the <paramref name="count"/> pixels of an unfiltered row to output row <paramref name="y"/>, at columns
    /// <paramref name="x0"/>, <paramref name="x0"/> + <paramref name="dx"/>, … (every column when not interlaced).
    /// </summary>
    private static void WriteRow(PngHeader header, byte[]? palette, ReadOnlySpan<byte> row, byte[] pixels, int y, int x0, int dx, int count)
    {
        var channels = header.DecodedChannels;
        var output = pixels.AsSpan(y * header.Width * channels, header.Width * channels);
        var depth = header.BitDepth;
        if (depth < 8)
        {
            // Grey or palette indices packed most significant bits first.
            var mask = (1 << depth) - 1;
            var scale = 255 / mask;
            for (var i = 0; i < count; i++)
            {
                var bit = i * depth;
                var sample = (row[bit >> 3] >> (8 - depth - (bit & 7))) & mask;
                var x = x0 + i * dx;
                if (palette is not null && header.ColorType == PngColorType.Palette) palette.AsSpan(sample * 3, 3).CopyTo(output.Slice(x * 3, 3));
                else output[x] = (byte)(sample * scale);
            }
            return;
        }
        // 8 or 16 bits: sample s of pixel i starts at byte (i × samples + s) × bytes per sample; for 16 bits that is the
        // high (first, big-endian) byte, the one kept.
        var samples = header.SamplesPerPixel;
        var sampleBytes = depth / 8;
        var pixelBytes = samples * sampleBytes;
        switch (header.ColorType)
        {
            case PngColorType.Gray or PngColorType.GrayAlpha:
                for (var i = 0; i < count; i++) output[x0 + i * dx] = row[i * pixelBytes];
                break;
            case PngColorType.Palette:
                for (var i = 0; i < count; i++) palette.AsSpan(row[i] * 3, 3).CopyTo(output.Slice((x0 + i * dx) * 3, 3));
                break;
            default:
                for (var i = 0; i < count; i++)
                {
                    var source = i * pixelBytes;
                    var target = (x0 + i * dx) * 3;
                    output[target] = row[source];
                    output[target + 1] = row[source + sampleBytes];
                    output[target + 2] = row[source + 2 * sampleBytes];
                }
                break;
        }
    }
}
