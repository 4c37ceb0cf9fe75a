namespace Acp.Onnx.Channels;

/// <summary>
/// Rounds kept widths to multiples of a SIMD-friendly number. Unaligned channel counts lose much of pruning's
/// speed-up in ONNX Runtime (the kernels pack 8 or 16 channels at a time), so strategies round by default.
/// </summary>
public static class ChannelRounding
{
    /// <summary>The default multiple.</summary>
    public const int DefaultMultiple = 8;

    /// <summary>
    /// The kept width for a group of <paramref name="width"/> channels that should keep about
    /// <paramref name="target"/>: the nearest multiple of <paramref name="multiple"/>, at least one multiple, at
    /// most <paramref name="width"/> (a group smaller than one multiple keeps everything).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A width or multiple below 1, or a negative or non-finite target.</exception>
    public static int RoundWidth(int width, double target, int multiple = DefaultMultiple)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(multiple, 1);
        if (!double.IsFinite(target) || target < 0) throw new ArgumentOutOfRangeException(nameof(target), target, "The target width must be a finite number of at least 0.");
        var rounded = (long)Math.Round(target / multiple, MidpointRounding.AwayFromZero) * multiple;
        return (int)Math.Min(width, Math.Max(multiple, rounded));
    }
}
