using System.Buffers.Binary;
using System.IO.Compression;

namespace Acp.Pruning.Tests.Reporting;

/// <summary>
/// A minimal PNG decoder for screenshots: 8-bit RGB or RGBA, not interlaced (what Chromium writes). IDAT chunks are
/// concatenated, inflated with <see cref="ZLibStream"/> and unfiltered (None, Sub, Up, Average, Paeth).
/// </summary>
internal sealed class PngImage
{
    private static readonly byte[] Signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    private PngImage(int width, int height, byte[] rgb)
    {
        Width = width;
        Height = height;
        Rgb = rgb;
    }

    public int Width { get; }
    public int Height { get; }

    /// <summary>Pixels row by row, 3 bytes each (alpha, if any, composited over white).</summary>
    public byte[] Rgb { get; }

    /// <summary>The pixel at (x, y) as 0xRRGGBB.</summary>
    public int this[int x, int y]
    {
        get
        {
            var i = 3 * (y * Width + x);
            return (Rgb[i] << 16) | (Rgb[i + 1] << 8) | Rgb[i + 2];
        }
    }

    public static PngImage Load(string path) => Decode(File.ReadAllBytes(path), path);

    public static PngImage Decode(byte[] file, string name = "PNG")
    {
        if (file.Length < Signature.Length || !file.AsSpan(0, Signature.Length).SequenceEqual(Signature))
            throw new InvalidDataException($"{name}: not a PNG file (bad signature).");
        int width = 0, height = 0, channels = 0;
        var compressed = new MemoryStream();
        var sawEnd = false;
        for (var offset = Signature.Length; offset < file.Length && !sawEnd;)
        {
            if (offset + 12 > file.Length) throw new InvalidDataException($"{name}: truncated chunk header at byte {offset}.");
            var length = BinaryPrimitives.ReadInt32BigEndian(file.AsSpan(offset));
            var type = System.Text.Encoding.ASCII.GetString(file, offset + 4, 4);
            if (length < 0 || offset + 12L + length > file.Length) throw new InvalidDataException($"{name}: chunk {type} runs past the end.");
            var data = file.AsSpan(offset + 8, length);
            switch (type)
            {
                case "IHDR":
                    width = BinaryPrimitives.ReadInt32BigEndian(data);
                    height = BinaryPrimitives.ReadInt32BigEndian(data[4..]);
                    int bitDepth = data[8], colourType = data[9], interlace = data[12];
                    if (bitDepth != 8 || colourType is not (2 or 6) || interlace != 0)
                        throw new NotSupportedException($"{name}: only 8-bit RGB/RGBA without interlacing is supported " +
                            $"(bit depth {bitDepth}, colour type {colourType}, interlace {interlace}).");
                    channels = colourType == 6 ? 4 : 3;
                    break;
                case "IDAT":
                    compressed.Write(data);
                    break;
                case "IEND":
                    sawEnd = true;
                    break;
            }
            offset += 12 + length;
        }
        if (channels == 0) throw new InvalidDataException($"{name}: no IHDR chunk.");
        if (!sawEnd) throw new InvalidDataException($"{name}: no IEND chunk.");

        var stride = width * channels;
        var raw = new byte[(long)height * (stride + 1)];
        compressed.Position = 0;
        using (var inflater = new ZLibStream(compressed, CompressionMode.Decompress))
            inflater.ReadExactly(raw);
        return new PngImage(width, height, Unfilter(raw, width, height, channels, name));
    }

    private static byte[] Unfilter(byte[] raw, int width, int height, int channels, string name)
    {
        var stride = width * channels;
        var previous = new byte[stride];
        var current = new byte[stride];
        var rgb = new byte[width * height * 3];
        for (var y = 0; y < height; y++)
        {
            var rowStart = y * (stride + 1);
            var filter = raw[rowStart];
            for (var i = 0; i < stride; i++)
            {
                int left = i >= channels ? current[i - channels] : 0;
                int up = previous[i];
                int upLeft = i >= channels ? previous[i - channels] : 0;
                var predictor = filter switch
                {
                    0 => 0,
                    1 => left,
                    2 => up,
                    3 => (left + up) / 2,
                    4 => Paeth(left, up, upLeft),
                    _ => throw new InvalidDataException($"{name}: row {y} has unknown filter type {filter}."),
                };
                current[i] = (byte)(raw[rowStart + 1 + i] + predictor);
            }
            for (var x = 0; x < width; x++)
            {
                var alpha = channels == 4 ? current[4 * x + 3] : 255;
                for (var c = 0; c < 3; c++)
                {
                    var value = current[channels * x + c];
                    rgb[3 * (y * width + x) + c] = (byte)((value * alpha + 255 * (255 - alpha) + 127) / 255);
                }
            }
            (previous, current) = (current, previous);
        }
        return rgb;
    }

    private static int Paeth(int a, int b, int c)
    {
        var p = a + b - c;
        int pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
}
