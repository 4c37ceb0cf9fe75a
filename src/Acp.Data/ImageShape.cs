namespace Acp.Data;

/// <summary>The shape of one image, in the channel-major (CHW) order the engine's NCHW tensors use.</summary>
/// <param name="Channels">Colour channels: 1 for grey-scale, 3 for RGB.</param>
/// <param name="Height">Rows.</param>
/// <param name="Width">Columns.</param>
public readonly record struct ImageShape(int Channels, int Height, int Width)
{
    /// <summary>Values per image: channels × height × width.</summary>
    public int PixelCount => checked(Channels * Height * Width);

    /// <summary>Values per channel plane: height × width.</summary>
    public int PlaneSize => checked(Height * Width);

    /// <summary>The shape as text, e.g. 3×32×32.</summary>
    public override string ToString() => $"{Channels}×{Height}×{Width}";
}
