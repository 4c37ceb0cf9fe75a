namespace Acp.Data.Images;

/// <summary>Reads an image file and decodes it as PNG or JPEG, chosen by its first bytes rather than its name
/// (data sets in the wild hold PNGs named .jpg).</summary>
internal static class ImageDecoder
{
    /// <summary>Larger files are refused before they are read: no PNG or JPEG of a training image comes near this.</summary>
    private const long MaxFileBytes = 256L << 20;

    /// <summary>Decodes the file at <paramref name="path"/>; <paramref name="jpeg"/> is asked for only for JPEG files.</summary>
    /// <exception cref="DatasetException">The file cannot be read, is neither PNG nor JPEG, or is corrupt.</exception>
    public static DecodedImage Decode(string path, Func<TurboJpegLibrary> jpeg)
    {
        byte[] file;
        try
        {
            file = Acp.Onnx.RegularFile.ReadAllBytes(path, MaxFileBytes);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DatasetException(path, $"read failed: {e.Message}", e);
        }
        if (PngDecoder.HasSignature(file)) return PngDecoder.Decode(file, path);
        if (JpegDecoder.HasSignature(file)) return JpegDecoder.Decode(file, path, jpeg());
        throw new DatasetException(path, file.Length == 0
            ? "the file is empty."
            : "is neither a PNG nor a JPEG file (judged by its first bytes); image folders hold PNG and JPEG images.");
    }
}
