namespace Acp.Engine.Kernels;

/// <summary>
/// The shape of one 2-D max or average pooling over NCHW tensors: input <c>[Batch, Channels, InHeight, InWidth]</c>,
/// output <c>[Batch, Channels, OutHeight, OutWidth]</c>. Call <see cref="Validate"/> before trusting the derived sizes.
/// </summary>
/// <param name="Batch">Images in the batch (N); zero is allowed.</param>
/// <param name="Channels">Channels (C).</param>
/// <param name="InHeight">Input height (H).</param>
/// <param name="InWidth">Input width (W).</param>
/// <param name="KernelHeight">Window height in taps.</param>
/// <param name="KernelWidth">Window width in taps.</param>
/// <param name="StrideH">Vertical stride, at least 1.</param>
/// <param name="StrideW">Horizontal stride, at least 1.</param>
/// <param name="PadTop">Padding rows above the input (never selected by max pooling).</param>
/// <param name="PadLeft">Padding columns left of the input.</param>
/// <param name="PadBottom">Padding rows below the input.</param>
/// <param name="PadRight">Padding columns right of the input.</param>
/// <param name="DilationH">Vertical distance between window taps, at least 1.</param>
/// <param name="DilationW">Horizontal distance between window taps, at least 1.</param>
/// <param name="CeilMode">
/// Round the output size up instead of down, following PyTorch: a window that would start in the right (bottom)
/// padding or beyond is dropped, so the last window always starts inside the input or the left (top) padding.
/// </param>
/// <param name="CountIncludePad">
/// Average pooling only: divide by the number of window taps inside the padded input (taps past the bottom/right
/// padding, which only ceil mode creates, are not counted) instead of the number inside the input.
/// </param>
public readonly record struct PoolGeometry(
    int Batch, int Channels, int InHeight, int InWidth, int KernelHeight, int KernelWidth, int StrideH, int StrideW,
    int PadTop, int PadLeft, int PadBottom, int PadRight, int DilationH, int DilationW, bool CeilMode, bool CountIncludePad)
{
    /// <summary>Output height (see <see cref="CeilMode"/> for the rounding); 0 when the window does not fit.</summary>
    public int OutHeight => OutSize(InHeight, KernelHeight, StrideH, PadTop, PadBottom, DilationH, CeilMode);

    /// <summary>Output width (see <see cref="CeilMode"/> for the rounding); 0 when the window does not fit.</summary>
    public int OutWidth => OutSize(InWidth, KernelWidth, StrideW, PadLeft, PadRight, DilationW, CeilMode);

    /// <summary>Elements of the input tensor (N·C·H·W).</summary>
    public long InputLength => (long)Batch * Channels * InHeight * InWidth;

    /// <summary>Elements of the output tensor (N·C·OutHeight·OutWidth).</summary>
    public long OutputLength => (long)Batch * Channels * OutHeight * OutWidth;

    /// <summary>
    /// Throws an <see cref="ArgumentException"/> naming the offending numbers when the geometry is not a valid
    /// pooling: non-positive sizes, strides or dilations, negative pads, a dilated window larger than the padded
    /// input, or tensors too large for one array.
    /// </summary>
    public void Validate()
    {
        if (Batch < 0) throw Invalid($"Batch is {Batch}; it must not be negative.");
        if (Channels < 1) throw Invalid($"Channels is {Channels}; it must be at least 1.");
        if (InHeight < 1 || InWidth < 1) throw Invalid($"Input is {InHeight}×{InWidth}; both sides must be at least 1.");
        if (KernelHeight < 1 || KernelWidth < 1) throw Invalid($"Window is {KernelHeight}×{KernelWidth}; both sides must be at least 1.");
        if (StrideH < 1 || StrideW < 1) throw Invalid($"Strides are {StrideH}×{StrideW}; both must be at least 1.");
        if (DilationH < 1 || DilationW < 1) throw Invalid($"Dilations are {DilationH}×{DilationW}; both must be at least 1.");
        if (PadTop < 0 || PadLeft < 0 || PadBottom < 0 || PadRight < 0)
        {
            throw Invalid($"Pads (top, left, bottom, right) are ({PadTop}, {PadLeft}, {PadBottom}, {PadRight}); none may be negative.");
        }

        var paddedH = (long)InHeight + PadTop + PadBottom;
        var paddedW = (long)InWidth + PadLeft + PadRight;
        var spanH = (long)DilationH * (KernelHeight - 1) + 1;
        var spanW = (long)DilationW * (KernelWidth - 1) + 1;
        if (paddedH > int.MaxValue / 2 || paddedW > int.MaxValue / 2 || spanH > int.MaxValue / 2 || spanW > int.MaxValue / 2)
        {
            throw Invalid($"Padded input {paddedH}×{paddedW} or dilated window {spanH}×{spanW} is too large.");
        }
        if (spanH > paddedH || spanW > paddedW)
        {
            throw Invalid($"The dilated window ({spanH}×{spanW}, from {KernelHeight}×{KernelWidth} with dilations {DilationH}×{DilationW}) " +
                $"is larger than the padded input ({paddedH}×{paddedW}).");
        }

        var planes = (long)Batch * Channels;
        if (planes > 0 && ((long)InHeight * InWidth > Array.MaxLength / planes || (long)OutHeight * OutWidth > Array.MaxLength / planes))
        {
            throw Invalid($"The input ({InputLength} elements) or output ({OutputLength}) would not fit one array ({Array.MaxLength}).");
        }
    }

    /// <inheritdoc/>
    public override string ToString() =>
        $"Pool N={Batch} C={Channels} in {InHeight}×{InWidth} out {OutHeight}×{OutWidth} k {KernelHeight}×{KernelWidth} " +
        $"s {StrideH}×{StrideW} pads ({PadTop},{PadLeft},{PadBottom},{PadRight}) d {DilationH}×{DilationW}" +
        $"{(CeilMode ? " ceil" : "")}{(CountIncludePad ? " count_include_pad" : "")}";

    internal static int OutSize(int input, int kernel, int stride, int padBefore, int padAfter, int dilation, bool ceil)
    {
        if (stride < 1) return 0;
        var numerator = (long)input + padBefore + padAfter - (long)dilation * (kernel - 1) - 1;
        if (numerator < 0) return 0;
        var size = (ceil ? (numerator + stride - 1) / stride : numerator / stride) + 1;
        // PyTorch's rule: the last window must start inside the input or the leading padding.
        if (ceil && (size - 1) * stride >= (long)input + padBefore) size--;
        return (int)Math.Min(int.MaxValue, size);
    }

    private ArgumentException Invalid(string message) => new($"Invalid pooling geometry ({this}): {message}");
}
