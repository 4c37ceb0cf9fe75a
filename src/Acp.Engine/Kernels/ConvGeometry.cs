namespace Acp.Engine.Kernels;

/// <summary>
/// The shape of one 2-D convolution over NCHW tensors: input <c>[Batch, InChannels, InHeight, InWidth]</c>,
/// weights <c>[OutChannels, InChannels / Groups, KernelHeight, KernelWidth]</c>, output
/// <c>[Batch, OutChannels, OutHeight, OutWidth]</c>. Padding is given per side (ONNX allows asymmetric pads);
/// dilation spreads the kernel taps apart. Call <see cref="Validate"/> before trusting the derived sizes.
/// </summary>
/// <param name="Batch">Images in the batch (N); zero is allowed and makes every kernel a no-op except for zeroing gradients.</param>
/// <param name="InChannels">Input channels (C_in); a multiple of <paramref name="Groups"/>.</param>
/// <param name="InHeight">Input height (H).</param>
/// <param name="InWidth">Input width (W).</param>
/// <param name="OutChannels">Output channels (C_out); a multiple of <paramref name="Groups"/>.</param>
/// <param name="KernelHeight">Kernel height (KH).</param>
/// <param name="KernelWidth">Kernel width (KW).</param>
/// <param name="StrideH">Vertical stride, at least 1.</param>
/// <param name="StrideW">Horizontal stride, at least 1.</param>
/// <param name="PadTop">Zero rows added above the input.</param>
/// <param name="PadLeft">Zero columns added left of the input.</param>
/// <param name="PadBottom">Zero rows added below the input.</param>
/// <param name="PadRight">Zero columns added right of the input.</param>
/// <param name="DilationH">Vertical distance between kernel taps, at least 1.</param>
/// <param name="DilationW">Horizontal distance between kernel taps, at least 1.</param>
/// <param name="Groups">Channel groups: 1 is a dense convolution, InChannels is depthwise.</param>
public readonly record struct ConvGeometry(
    int Batch, int InChannels, int InHeight, int InWidth, int OutChannels, int KernelHeight, int KernelWidth,
    int StrideH, int StrideW, int PadTop, int PadLeft, int PadBottom, int PadRight, int DilationH, int DilationW, int Groups)
{
    /// <summary>Output height: ⌊(H + PadTop + PadBottom − DilationH·(KH − 1) − 1) / StrideH⌋ + 1; 0 when the kernel does not fit.</summary>
    public int OutHeight => OutSize(InHeight, KernelHeight, StrideH, PadTop, PadBottom, DilationH);

    /// <summary>Output width: ⌊(W + PadLeft + PadRight − DilationW·(KW − 1) − 1) / StrideW⌋ + 1; 0 when the kernel does not fit.</summary>
    public int OutWidth => OutSize(InWidth, KernelWidth, StrideW, PadLeft, PadRight, DilationW);

    /// <summary>Input channels seen by each output channel (InChannels / Groups).</summary>
    public int InChannelsPerGroup => Groups > 0 ? InChannels / Groups : 0;

    /// <summary>Output channels produced by each group (OutChannels / Groups).</summary>
    public int OutChannelsPerGroup => Groups > 0 ? OutChannels / Groups : 0;

    /// <summary>Elements of the input tensor (N·C_in·H·W).</summary>
    public long InputLength => (long)Batch * InChannels * InHeight * InWidth;

    /// <summary>Elements of the output tensor (N·C_out·OutHeight·OutWidth).</summary>
    public long OutputLength => (long)Batch * OutChannels * OutHeight * OutWidth;

    /// <summary>Elements of the weight tensor (C_out·C_in/Groups·KH·KW).</summary>
    public long WeightLength => (long)OutChannels * InChannelsPerGroup * KernelHeight * KernelWidth;

    /// <summary>
    /// Throws an <see cref="ArgumentException"/> naming the offending numbers when the geometry is not a valid
    /// convolution: non-positive sizes, strides or dilations, negative pads, channels not divisible by the group
    /// count, a dilated kernel larger than the padded input, or tensors too large for one array.
    /// </summary>
    public void Validate()
    {
        if (Batch < 0) throw Invalid($"Batch is {Batch}; it must not be negative.");
        if (InChannels < 1 || OutChannels < 1) throw Invalid($"Channels are {InChannels} in and {OutChannels} out; both must be at least 1.");
        if (InHeight < 1 || InWidth < 1) throw Invalid($"Input is {InHeight}×{InWidth}; both sides must be at least 1.");
        if (KernelHeight < 1 || KernelWidth < 1) throw Invalid($"Kernel is {KernelHeight}×{KernelWidth}; both sides must be at least 1.");
        if (StrideH < 1 || StrideW < 1) throw Invalid($"Strides are {StrideH}×{StrideW}; both must be at least 1.");
        if (DilationH < 1 || DilationW < 1) throw Invalid($"Dilations are {DilationH}×{DilationW}; both must be at least 1.");
        if (PadTop < 0 || PadLeft < 0 || PadBottom < 0 || PadRight < 0)
        {
            throw Invalid($"Pads (top, left, bottom, right) are ({PadTop}, {PadLeft}, {PadBottom}, {PadRight}); none may be negative.");
        }
        if (Groups < 1) throw Invalid($"Groups is {Groups}; it must be at least 1.");
        if (InChannels % Groups != 0 || OutChannels % Groups != 0)
        {
            throw Invalid($"Groups is {Groups}, which must divide both InChannels ({InChannels}) and OutChannels ({OutChannels}).");
        }

        // Long arithmetic: the sums below are formed before anything is known to fit in an int.
        var paddedH = (long)InHeight + PadTop + PadBottom;
        var paddedW = (long)InWidth + PadLeft + PadRight;
        var spanH = (long)DilationH * (KernelHeight - 1) + 1;
        var spanW = (long)DilationW * (KernelWidth - 1) + 1;
        if (paddedH > int.MaxValue || paddedW > int.MaxValue || spanH > int.MaxValue || spanW > int.MaxValue)
        {
            throw Invalid($"Padded input {paddedH}×{paddedW} or dilated kernel {spanH}×{spanW} exceeds {int.MaxValue}.");
        }
        if (spanH > paddedH || spanW > paddedW)
        {
            throw Invalid($"The dilated kernel ({spanH}×{spanW}, from {KernelHeight}×{KernelWidth} with dilations {DilationH}×{DilationW}) " +
                $"is larger than the padded input ({paddedH}×{paddedW}).");
        }

        CheckFits("input", (long)Batch * InChannels, (long)InHeight * InWidth);
        CheckFits("output", (long)Batch * OutChannels, (long)OutHeight * OutWidth);
        CheckFits("weight", OutChannels, (long)InChannelsPerGroup * KernelHeight * KernelWidth);
        // Per-image column matrices (rows C_in/G·KH·KW, columns OH·OW) are indexed with ints too.
        CheckFits("per-group column matrix", (long)InChannelsPerGroup * KernelHeight * KernelWidth, (long)OutHeight * OutWidth);
    }

    /// <inheritdoc/>
    public override string ToString() =>
        $"Conv N={Batch} {InChannels}→{OutChannels} in {InHeight}×{InWidth} out {OutHeight}×{OutWidth} k {KernelHeight}×{KernelWidth} " +
        $"s {StrideH}×{StrideW} pads ({PadTop},{PadLeft},{PadBottom},{PadRight}) d {DilationH}×{DilationW} g {Groups}";

    internal static int OutSize(int input, int kernel, int stride, int padBefore, int padAfter, int dilation)
    {
        if (stride < 1) return 0;
        var numerator = (long)input + padBefore + padAfter - (long)dilation * (kernel - 1) - 1;
        // A negative numerator means the kernel does not fit; C# division truncates towards zero, so test first.
        return numerator < 0 ? 0 : (int)Math.Min(int.MaxValue, numerator / stride + 1);
    }

    private void CheckFits(string what, long a, long b)
    {
        if (a > 0 && b > Array.MaxLength / a)
        {
            throw Invalid($"The {what} would have {a}·{b} elements, more than one array holds ({Array.MaxLength}).");
        }
    }

    private ArgumentException Invalid(string message) => new($"Invalid convolution geometry ({this}): {message}");
}
