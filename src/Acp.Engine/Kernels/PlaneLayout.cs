namespace Acp.Engine.Kernels;

/// <summary>
/// Where one value's pixels sit in its buffer: each image holds its channels' planes one after another,
/// <see cref="Plane"/> floats each; pixel (row, column) of a plane is at <see cref="Origin"/> + row·<see cref="Pitch"/>
/// + column. Dense NCHW has Plane = H·W, Pitch = W and Origin = 0. A padded layout keeps zeros around the pixels: a
/// convolution whose reads all fall on pixels or on those zeros (<see cref="ConvByChannel.ReadsInPlace"/>) reads the
/// buffer in place instead of copying it into a canvas.
/// </summary>
internal readonly record struct PlaneLayout(int Plane, int Pitch, int Origin)
{
    /// <summary>Plain NCHW planes of <paramref name="height"/> × <paramref name="width"/>.</summary>
    public static PlaneLayout Dense(int height, int width) => new(height * width, width, 0);

    /// <summary>Offset of pixel (<paramref name="row"/>, <paramref name="column"/>) within its plane.</summary>
    public int At(int row, int column) => Origin + row * Pitch + column;
}

/// <summary>
/// Non-dense layouts of a by-channel convolution's buffers (null = dense NCHW), for an inference pass that hands
/// padded activations from one convolution to the next.
/// </summary>
/// <param name="Input">The input's layout, with zeros outside the pixels, which the convolution must be able to read in place (<see cref="ConvByChannel.ReadsInPlace"/>).</param>
/// <param name="Output">Where to write the output pixels; the rest of the buffer is left as it is.</param>
/// <param name="Residual">How the epilogue's residual is laid out.</param>
internal readonly record struct ConvLayouts(PlaneLayout? Input, PlaneLayout? Output, PlaneLayout? Residual)
{
    /// <summary>Everything dense.</summary>
    public static ConvLayouts Dense => default;

    public bool IsDense => Input is null && Output is null && Residual is null;
}
