using Acp.Data;
using Acp.Data.Images;

namespace Acp.Engine.Tests.Data;

/// <summary>
/// PNG and JPEG decoding against PIL's decoding of the same files (tools/generate_image_fixtures.py): PNGs of every
/// colour type, bit depth and filter type, plain and interlaced, must match exactly; JPEGs too, because PIL and
/// libturbojpeg are the same libjpeg-turbo build on Debian. Broken files must give a <see cref="DatasetException"/>
/// naming the file and the problem.
/// </summary>
public sealed class ImageDecoderTests
{
    private static readonly string[] PngGroups =
    [
        "png/gray1", "png/gray2", "png/gray4", "png/gray8", "png/gray16", "png/rgb8", "png/rgb16",
        "png/palette1", "png/palette2", "png/palette4", "png/palette8", "png/grayalpha8", "png/grayalpha16",
        "png/rgba8", "png/rgba16",
        "png/pil_rgb", "png/pil_rgba", "png/pil_l", "png/pil_la", "png/pil_1", "png/pil_i16", "png/pil_p", "png/pil_p4",
    ];

    private static readonly string[] JpegNames =
    [
        "jpeg/rgb444.jpg", "jpeg/rgb422.jpg", "jpeg/rgb420.jpg", "jpeg/odd420.jpg", "jpeg/odd422.jpg", "jpeg/gray.jpg",
        "jpeg/progressive.jpg", "jpeg/optimized.jpg", "jpeg/cmyk.jpg", "jpeg/tiny.jpg",
    ];

    private static readonly string[] CorruptNames =
    [
        "corrupt/truncated_half.png", "corrupt/no_iend.png", "corrupt/signature_only.png", "corrupt/bad_crc.png",
        "corrupt/bad_zlib_header.png", "corrupt/bad_deflate_block.png", "corrupt/bad_adler.png", "corrupt/short_data.png",
        "corrupt/bad_filter.png", "corrupt/huge.png", "corrupt/too_many_pixels.png", "corrupt/zero_width.png",
        "corrupt/bad_depth.png", "corrupt/bad_color_type.png", "corrupt/bad_interlace.png", "corrupt/no_idat.png",
        "corrupt/palette_without_plte.png", "corrupt/unknown_critical.png", "corrupt/first_not_ihdr.png", "corrupt/text.png",
        "corrupt/empty.png", "corrupt/truncated.jpg", "corrupt/garbage.jpg", "corrupt/png_named.jpg",
    ];

    public static TheoryData<string> PngGroupData => new(PngGroups);

    public static TheoryData<string> JpegData => new(JpegNames);

    public static TheoryData<string> CorruptData => new(CorruptNames);

    [Theory]
    [MemberData(nameof(PngGroupData))]
    public void Png_decodes_as_PIL_does(string group)
    {
        var cases = ImageFixtures.DecodeCases.Where(c => InGroup(c.File, group)).ToList();

        Assert.NotEmpty(cases);
        foreach (var c in cases)
        {
            var path = ImageFixtures.PathOf(c.File);
            AssertLikePil(c, PngDecoder.Decode(File.ReadAllBytes(path), path), tolerance: 0);
        }
    }

    [Theory]
    [MemberData(nameof(JpegData))]
    public void Jpeg_decodes_as_PIL_does(string file)
    {
        var c = ImageFixtures.Case(file);
        var path = ImageFixtures.PathOf(file);

        // Exact: PIL's _imaging links Debian's libjpeg62-turbo and libturbojpeg0 is built from the same source, both
        // with the accurate integer IDCT and smooth chroma upsampling.
        AssertLikePil(c, JpegDecoder.Decode(File.ReadAllBytes(path), path, TurboJpegLibrary.Default), tolerance: 0);
    }

    [Fact]
    public void Every_generated_image_is_tested()
    {
        var covered = ImageFixtures.DecodeCases.Where(c => !PngGroups.Any(g => InGroup(c.File, g)) && !JpegNames.Contains(c.File)).Select(c => c.File);
        Assert.Empty(covered);
        Assert.Equal(CorruptNames.Order(), ImageFixtures.CorruptCases.Select(c => c.File).Order());
        // 15 colour type/bit depth pairs, each plain (2 sizes) and interlaced (3 sizes).
        Assert.Equal(75, ImageFixtures.DecodeCases.Count(c => c.File.StartsWith("png/", StringComparison.Ordinal) && !c.File.Contains("pil_")));
    }

    [Theory]
    [MemberData(nameof(CorruptData))]
    public void Broken_files_name_the_file_and_the_problem(string file)
    {
        var expected = ImageFixtures.CorruptCases.Single(c => c.File == file);
        var path = ImageFixtures.PathOf(file);

        var e = Assert.Throws<DatasetException>(() => ImageDecoder.Decode(path, () => TurboJpegLibrary.Default));

        Assert.Equal(path, e.Path);
        Assert.StartsWith(path + ": ", e.Message);
        Assert.Contains(expected.Phrase, e.Message);
    }

    [Fact]
    public void Png_chunk_crc_is_the_published_one()
    {
        // Every PNG ends with the IEND chunk, whose CRC the specification's examples give as AE 42 60 82.
        Assert.Equal(0xAE426082u, PngCrc.Compute("IEND"u8));
        Assert.Equal(0xCBF43926u, PngCrc.Compute("123456789"u8)); // the CRC-32 check value
    }

    [Fact]
    public void Missing_turbojpeg_is_reported_only_for_jpeg_files()
    {
        var missing = TurboJpegLibrary.Load(["libacp-no-such-turbojpeg.so.9"]);
        var jpeg = ImageFixtures.PathOf("jpeg/rgb444.jpg");
        var png = ImageFixtures.PathOf("png/rgb8_11x13.png");

        var e = Assert.Throws<DatasetException>(() => ImageDecoder.Decode(jpeg, () => missing));
        // A PNG never asks for the library.
        var image = ImageDecoder.Decode(png, () => throw new InvalidOperationException("the JPEG library was asked for"));

        Assert.False(missing.IsAvailable);
        Assert.Equal(jpeg, e.Path);
        Assert.Contains("libturbojpeg.so.0", e.Message);
        Assert.Contains("Debian package libturbojpeg0", e.Message);
        Assert.Contains("libacp-no-such-turbojpeg.so.9", e.Message);
        Assert.Equal((13, 11), (image.Width, image.Height));
    }

    [Fact]
    public void Turbojpeg_is_found_on_a_set_up_machine()
    {
        var library = TurboJpegLibrary.Default;

        Assert.True(library.IsAvailable, $"libturbojpeg did not load: {library.UnavailableReason}; scripts/setup.sh installs libturbojpeg0.");
        using var handle = TurboJpegDecompressorHandle.Create(library);
        Assert.False(handle.IsInvalid);
    }

    [Fact]
    public void A_decompressor_is_destroyed_once_on_dispose()
    {
        var handle = TurboJpegDecompressorHandle.Create(TurboJpegLibrary.Default);

        handle.Dispose();
        handle.Dispose();

        Assert.True(handle.IsClosed);
    }

    private static bool InGroup(string file, string group) =>
        file.StartsWith(group + "_", StringComparison.Ordinal) || file == group + ".png";

    /// <summary>The decoder's pixels, and their grey and RGB planes, against PIL's.</summary>
    private static void AssertLikePil(DecodeCase expected, DecodedImage image, int tolerance)
    {
        Assert.Equal((expected.Width, expected.Height, expected.Channels), (image.Width, image.Height, image.Channels));
        ImageFixtures.AssertPixels(expected.Native, image.Pixels, $"{expected.File} decoded", tolerance);
        var gray = new byte[image.Width * image.Height];
        PixelLayout.ToPlanes(image, 1, gray);
        ImageFixtures.AssertPixels(expected.Gray, gray, $"{expected.File} as grey", tolerance);
        var rgb = new byte[3 * image.Width * image.Height];
        PixelLayout.ToPlanes(image, 3, rgb);
        ImageFixtures.AssertPixels(ImageFixtures.ToChw(expected.Rgb, image.Height, image.Width, 3), rgb, $"{expected.File} as RGB planes", tolerance);
    }
}
