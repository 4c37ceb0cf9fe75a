namespace Acp.Data.Images;

/// <summary>
/// How an image is brought to a data set's size: scaled (keeping its aspect ratio) to the smallest size that covers
/// the target, then cropped at the centre. For a square target this is torchvision's
/// <c>Resize(size)</c> + <c>CenterCrop(size)</c>: the shorter side becomes the target and the longer one
/// ⌊long · target / short⌋.
/// </summary>
/// <param name="ScaledHeight">Height after scaling, before cropping.</param>
/// <param name="ScaledWidth">Width after scaling, before cropping.</param>
/// <param name="Top">First row of the scaled image kept.</param>
/// <param name="Left">First column of the scaled image kept.</param>
internal readonly record struct ResizePlan(int ScaledHeight, int ScaledWidth, int Top, int Left)
{
    /// <summary>The plan for a <paramref name="height"/> × <paramref name="width"/> image and a target size.</summary>
    public static ResizePlan For(int height, int width, int targetHeight, int targetWidth)
    {
        // The axis with the larger ratio target/source decides the scale; compared cross-multiplied, exactly.
        int scaledHeight, scaledWidth;
        if ((long)targetHeight * width >= (long)targetWidth * height)
        {
            scaledHeight = targetHeight;
            scaledWidth = (int)Math.Max(targetWidth, (long)width * targetHeight / height);
        }
        else
        {
            scaledWidth = targetWidth;
            scaledHeight = (int)Math.Max(targetHeight, (long)height * targetWidth / width);
        }
        // torchvision's CenterCrop offset: round((scaled − target) / 2), halves to even as Python's round does.
        var top = (int)Math.Round((scaledHeight - targetHeight) / 2.0, MidpointRounding.ToEven);
        var left = (int)Math.Round((scaledWidth - targetWidth) / 2.0, MidpointRounding.ToEven);
        return new ResizePlan(scaledHeight, scaledWidth, top, left);
    }
}

/// <summary>
/// Scales and centre-crops channel planes with bilinear interpolation exactly as PIL's
/// <c>Image.resize(…, BILINEAR)</c> does (and so torchvision's <c>Resize</c> on PIL images, the usual way PyTorch
/// models are trained): pixel centres at half-integers, a triangle filter that, when shrinking, is widened by the
/// shrink factor so every source pixel contributes (antialiasing), weights renormalised where the filter meets the
/// border. When enlarging this is the textbook half-pixel-centre bilinear interpolation with edge clamping (OpenCV's
/// INTER_LINEAR, PyTorch's align_corners=False).
/// </summary>
/// <remarks>
/// PIL's arithmetic is reproduced too, so the bytes are PIL's, not just close: weights in 22-bit fixed point, the
/// horizontal pass first, its result rounded and clamped to bytes, then the vertical pass. Only the output pixels
/// that survive the crop are computed.
/// </remarks>
internal static class ImageResizer
{
    /// <summary>PIL's fixed-point precision: 32 − 8 − 2 bits, so that 8-bit values times weights sum in an int.</summary>
    private const int PrecisionBits = 22;

    private const int Half = 1 << (PrecisionBits - 1);

    /// <summary>
    /// Resizes <paramref name="channels"/> planes of <paramref name="height"/> × <paramref name="width"/> bytes per
    /// <see cref="ResizePlan.For"/> into <paramref name="destination"/> (channels × targetHeight × targetWidth bytes).
    /// </summary>
    public static void ResizeAndCrop(ReadOnlySpan<byte> source, int channels, int height, int width, Span<byte> destination, int targetHeight, int targetWidth)
    {
        if (height == targetHeight && width == targetWidth)
        {
            source[..(channels * height * width)].CopyTo(destination);
            return;
        }
        var plan = ResizePlan.For(height, width, targetHeight, targetWidth);
        var columns = AxisFilter.Create(width, plan.ScaledWidth, plan.Left, targetWidth);
        var rows = AxisFilter.Create(height, plan.ScaledHeight, plan.Top, targetHeight);
        // Only the source rows some output row reads need the horizontal pass.
        var firstRow = rows.Start[0];
        var endRow = rows.Start[^1] + rows.Count[^1];
        var horizontal = new byte[(endRow - firstRow) * targetWidth];
        for (var c = 0; c < channels; c++)
        {
            var plane = source.Slice(c * height * width, height * width);
            for (var y = firstRow; y < endRow; y++)
            {
                var sourceRow = plane.Slice(y * width, width);
                var row = horizontal.AsSpan((y - firstRow) * targetWidth, targetWidth);
                for (var x = 0; x < targetWidth; x++)
                {
                    var weights = columns.WeightsOf(x);
                    var start = columns.Start[x];
                    var sum = Half;
                    for (var k = 0; k < weights.Length; k++) sum += weights[k] * sourceRow[start + k];
                    row[x] = ToByte(sum);
                }
            }
            var output = destination.Slice(c * targetHeight * targetWidth, targetHeight * targetWidth);
            for (var y = 0; y < targetHeight; y++)
            {
                var weights = rows.WeightsOf(y);
                var start = rows.Start[y] - firstRow;
                for (var x = 0; x < targetWidth; x++)
                {
                    var sum = Half;
                    for (var k = 0; k < weights.Length; k++) sum += weights[k] * horizontal[(start + k) * targetWidth + x];
                    output[y * targetWidth + x] = ToByte(sum);
                }
            }
        }
    }

    private static byte ToByte(int fixedPoint) => (byte)Math.Clamp(fixedPoint >> PrecisionBits, 0, 255);

    /// <summary>The filter taps of one axis: for output index i, source indices Start[i] … Start[i] + Count[i] − 1.</summary>
    private sealed class AxisFilter
    {
        private readonly int[] _weights;
        private readonly int _stride;

        private AxisFilter(int[] start, int[] count, int[] weights, int stride)
        {
            Start = start;
            Count = count;
            _weights = weights;
            _stride = stride;
        }

        public int[] Start { get; }

        public int[] Count { get; }

        /// <summary>The weights of output <paramref name="output"/>, in fixed point (sum ≈ 2^22).</summary>
        public ReadOnlySpan<int> WeightsOf(int output) => _weights.AsSpan(output * _stride, Count[output]);

        /// <summary>
        /// Taps for scaling <paramref name="sourceSize"/> to <paramref name="scaledSize"/> and keeping outputs
        /// <paramref name="offset"/> … <paramref name="offset"/> + <paramref name="outputSize"/> − 1.
        /// </summary>
        public static AxisFilter Create(int sourceSize, int scaledSize, int offset, int outputSize)
        {
            var scale = (double)sourceSize / scaledSize;
            // Shrinking by s widens the triangle (support 1) by s; enlarging keeps it.
            var filterScale = Math.Max(scale, 1.0);
            var support = filterScale;
            var stride = (int)Math.Ceiling(support) * 2 + 1;
            var start = new int[outputSize];
            var count = new int[outputSize];
            var weights = new int[outputSize * stride];
            var buffer = new double[stride];
            // PIL multiplies by the reciprocal; doing the same keeps the weights identical to the last bit.
            var inverseScale = 1.0 / filterScale;
            for (var o = 0; o < outputSize; o++)
            {
                var center = (o + offset + 0.5) * scale;
                // Source pixel j (centre j + 0.5) is within the support when |j + 0.5 − center| < support; the bounds
                // are rounded the way PIL rounds them (truncating center ± support + 0.5).
                var first = Math.Max((int)(center - support + 0.5), 0);
                var end = Math.Min((int)(center + support + 0.5), sourceSize);
                var taps = buffer.AsSpan(0, end - first);
                var total = 0.0;
                for (var k = 0; k < taps.Length; k++)
                {
                    var distance = Math.Abs((first + k - center + 0.5) * inverseScale);
                    taps[k] = distance < 1 ? 1 - distance : 0;
                    total += taps[k];
                }
                for (var k = 0; k < taps.Length; k++)
                {
                    // Normalised, then to fixed point rounding half away from zero (the weights are never negative).
                    weights[o * stride + k] = (int)(0.5 + (total > 0 ? taps[k] / total : 0) * (1 << PrecisionBits));
                }
                start[o] = first;
                count[o] = taps.Length;
            }
            return new AxisFilter(start, count, weights, stride);
        }
    }
}
