namespace Acp.Data;

/// <summary>
/// How an <see cref="ImageFolderDataset"/> turns files of any size and colour into images of one shape.
/// </summary>
/// <example>
/// <code>
/// // ImageNet-style: every image to 3×224×224 (shorter side scaled to 224, centre crop).
/// var options = new ImageFolderOptions { Height = 224, Width = 224, Channels = 3 };
/// </code>
/// </example>
public sealed record ImageFolderOptions
{
    /// <summary>
    /// Height of every image; set together with <see cref="Width"/>. Images are scaled (bilinear, keeping the aspect
    /// ratio) to the smallest size covering height × width and cropped at the centre. When both are null, every image
    /// must have the size of the first one.
    /// </summary>
    public int? Height { get; init; }

    /// <summary>Width of every image; set together with <see cref="Height"/>.</summary>
    public int? Width { get; init; }

    /// <summary>
    /// 1 for grey-scale (colour images converted with ITU-R 601-2 luma, as PIL's <c>convert("L")</c>), 3 for RGB
    /// (grey images repeated in all three channels). When null, that of the first image: 1 when it is grey, else 3.
    /// Alpha is always dropped.
    /// </summary>
    public int? Channels { get; init; }

    /// <summary>Throws when the options are inconsistent.</summary>
    internal void Validate()
    {
        if (Height.HasValue != Width.HasValue)
        {
            throw new ArgumentException($"Give both the height and the width of the images, or neither; got height {Height?.ToString() ?? "none"} and width {Width?.ToString() ?? "none"}.");
        }
        if (Height is <= 0 or > Images.ImageLimits.MaxDimension || Width is <= 0 or > Images.ImageLimits.MaxDimension)
        {
            throw new ArgumentException($"Image height and width must be 1 to {Images.ImageLimits.MaxDimension}; got {Height}×{Width}.");
        }
        if (Channels is not (null or 1 or 3))
        {
            throw new ArgumentException($"Channels must be 1 (grey) or 3 (RGB); got {Channels}.");
        }
    }
}
