using Acp.Onnx.Channels;

namespace Acp.Pruning.Search;

/// <summary>Rounding and clipping of structures (kept widths per layer) shared by the population and the swarm.</summary>
internal static class StructureRounding
{
    /// <summary>
    /// Clips <paramref name="value"/> to [1, <paramref name="upper"/>] and rounds it like every other kept width in
    /// Acp (<see cref="ChannelRounding.RoundWidth"/>): the nearest multiple of <paramref name="roundTo"/>, never
    /// below min(roundTo, upper), never above upper (so the full width stays reachable even when it is unaligned).
    /// </summary>
    public static int Round(double value, int upper, int roundTo)
    {
        var clipped = Math.Clamp(Math.Round(value, MidpointRounding.AwayFromZero), 1, upper);
        return ChannelRounding.RoundWidth(upper, clipped, roundTo);
    }

    /// <summary>The next smaller allowed width, or <paramref name="value"/> itself when it is already the smallest.</summary>
    public static int StepDown(int value, int upper, int roundTo)
    {
        var lowest = Math.Min(roundTo, upper);
        if (value <= lowest) return value;
        // An unaligned value (only the full width can be one) drops to the aligned value below it.
        return value % roundTo == 0 ? value - roundTo : value / roundTo * roundTo;
    }

    public static void Validate(int[] start, int[] upperBounds, int roundTo)
    {
        ArgumentNullException.ThrowIfNull(start);
        ArgumentNullException.ThrowIfNull(upperBounds);
        if (start.Length == 0) throw new ArgumentException("A structure needs at least one dimension.", nameof(start));
        if (start.Length != upperBounds.Length) throw new ArgumentException("The start and the upper bounds must have the same number of dimensions.", nameof(upperBounds));
        foreach (var upper in upperBounds) ArgumentOutOfRangeException.ThrowIfLessThan(upper, 1, nameof(upperBounds));
        ArgumentOutOfRangeException.ThrowIfLessThan(roundTo, 1);
    }
}

/// <summary>Structural equality for structures, so the fitness cache is keyed by content, not by array identity.</summary>
internal sealed class StructureComparer : IEqualityComparer<int[]>
{
    public static readonly StructureComparer Instance = new();

    public bool Equals(int[]? x, int[]? y) => ReferenceEquals(x, y) || (x is not null && y is not null && x.AsSpan().SequenceEqual(y));

    public int GetHashCode(int[] obj)
    {
        var hash = new HashCode();
        foreach (var value in obj) hash.Add(value);
        return hash.ToHashCode();
    }
}
