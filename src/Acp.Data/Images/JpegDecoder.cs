using System.Runtime.InteropServices;

namespace Acp.Data.Images;

/// <summary>
/// Decodes JPEG files with libjpeg-turbo's TurboJPEG API, with its defaults (accurate integer IDCT, smooth chroma
/// upsampling): the same library and settings PIL and torchvision's PIL loader use on Debian, so Acp sees the pixels
/// a PyTorch pipeline sees. Grey JPEGs decode to one channel, YCbCr and RGB ones to three, CMYK and YCCK ones to
/// RGB the way PIL converts them.
/// </summary>
/// <remarks>
/// libjpeg reports damaged data (including a file that ends early) as a warning and fills the damage with grey;
/// such files are refused rather than silently training on the grey.
/// </remarks>
internal static unsafe class JpegDecoder
{
    /// <summary>Whether <paramref name="file"/> starts like a JPEG: a start-of-image marker followed by another marker.</summary>
    public static bool HasSignature(ReadOnlySpan<byte> file) => file.Length >= 3 && file[0] == 0xFF && file[1] == 0xD8 && file[2] == 0xFF;

    /// <summary>Decodes a whole JPEG file.</summary>
    /// <param name="file">The file's bytes.</param>
    /// <param name="path">The file, for error messages.</param>
    /// <param name="library">TurboJPEG; the message says how to install it when it is not available.</param>
    /// <exception cref="DatasetException">The library is missing, or the file is corrupt, truncated or too large.</exception>
    public static DecodedImage Decode(byte[] file, string path, TurboJpegLibrary library)
    {
        if (!library.IsAvailable)
        {
            throw new DatasetException(path, "decoding JPEG images needs libjpeg-turbo's TurboJPEG library libturbojpeg.so.0 (Debian package libturbojpeg0, " +
                $"installed by scripts/setup.sh), which could not be loaded: {library.UnavailableReason}.");
        }
        using var decompressor = TurboJpegDecompressorHandle.Create(library);
        if (decompressor.IsInvalid)
        {
            throw new DatasetException(path, $"libturbojpeg could not create a decompressor: {library.ErrorText(IntPtr.Zero)}.");
        }
        var added = false;
        decompressor.DangerousAddRef(ref added);
        try
        {
            return Decode(file, path, library, decompressor.DangerousGetHandle());
        }
        finally
        {
            if (added) decompressor.DangerousRelease();
        }
    }

    private static DecodedImage Decode(byte[] file, string path, TurboJpegLibrary library, IntPtr handle)
    {
        int width, height, subsampling, colorSpace;
        fixed (byte* jpeg = file)
        {
            if (library.DecompressHeader3(handle, jpeg, new CULong((nuint)file.Length), &width, &height, &subsampling, &colorSpace) != 0)
            {
                throw new DatasetException(path, $"not a readable JPEG file: {library.ErrorText(handle)}.");
            }
            ImageLimits.Check(width, height, path, "JPEG");
            var (pixelFormat, samples) = colorSpace switch
            {
                TurboJpegLibrary.ColorSpaceGray => (TurboJpegLibrary.PixelFormatGray, 1),
                TurboJpegLibrary.ColorSpaceRgb or TurboJpegLibrary.ColorSpaceYCbCr => (TurboJpegLibrary.PixelFormatRgb, 3),
                TurboJpegLibrary.ColorSpaceCmyk or TurboJpegLibrary.ColorSpaceYcck => (TurboJpegLibrary.PixelFormatCmyk, 4),
                _ => throw new DatasetException(path, $"the JPEG colour space (TurboJPEG code {colorSpace}) is not one Acp reads (grey, YCbCr, RGB, CMYK, YCCK)."),
            };
            var pixels = new byte[(long)width * height * samples];
            fixed (byte* destination = pixels)
            {
                if (library.Decompress2(handle, jpeg, new CULong((nuint)file.Length), destination, width, 0, height, pixelFormat, 0) != 0)
                {
                    var message = library.ErrorText(handle);
                    throw new DatasetException(path, library.GetErrorCode(handle) == TurboJpegLibrary.ErrorWarning
                        ? $"the JPEG data is damaged or truncated ({message}); libjpeg would fill the damage with grey."
                        : $"JPEG decoding failed: {message}.");
                }
            }
            return samples == 4 ? new DecodedImage(width, height, 3, CmykToRgb(pixels)) : new DecodedImage(width, height, samples, pixels);
        }
    }

    /// <summary>
    /// PIL's conversion of a CMYK JPEG: the stored values are taken as inverted (Adobe's convention, which PIL always
    /// assumes), then red = (255 − K) − C·(255 − K)/255 rounded as PIL's fixed-point does, likewise green and blue.
    /// </summary>
    private static byte[] CmykToRgb(byte[] cmyk)
    {
        var rgb = new byte[cmyk.Length / 4 * 3];
        for (int i = 0, o = 0; i < cmyk.Length; i += 4, o += 3)
        {
            var keep = cmyk[i + 3]; // 255 − K after undoing the inversion
            for (var c = 0; c < 3; c++)
            {
                var ink = 255 - cmyk[i + c];
                var t = ink * keep + 128;
                rgb[o + c] = (byte)(keep - (((t >> 8) + t) >> 8));
            }
        }
        return rgb;
    }
}
