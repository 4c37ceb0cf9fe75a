namespace Acp.Reporting;

/// <summary>Evenly spaced axis ticks at "nice" values (1, 2 or 5 times a power of ten).</summary>
/// <param name="Values">The tick values, ascending, first ≤ the data's minimum and last ≥ its maximum.</param>
/// <param name="Step">The distance between ticks.</param>
/// <param name="Decimals">Decimals needed to print every tick exactly (0 for integral steps).</param>
internal sealed record TickSet(IReadOnlyList<double> Values, double Step, int Decimals)
{
    /// <summary>The first tick: the nice lower end of an axis.</summary>
    public double Min => Values[0];

    /// <summary>The last tick: the nice upper end of an axis.</summary>
    public double Max => Values[^1];

    /// <summary>
    /// Ticks covering [<paramref name="min"/>, <paramref name="max"/>] with about <paramref name="targetCount"/>
    /// intervals. A degenerate range (min = max, up to rounding) is widened around its value so it still gets an axis.
    /// </summary>
    /// <param name="min">The smallest value to cover; finite.</param>
    /// <param name="max">The largest value to cover; finite and ≥ <paramref name="min"/>.</param>
    /// <param name="targetCount">
    /// The wanted number of intervals (≥ 1); the result has between 0.6 and 1.6 times as many, plus at most one at
    /// each end where the data's ends fall between ticks.
    /// </param>
    /// <param name="minStep">The smallest allowed step, e.g. 1 for integer axes; 0 for none.</param>
    public static TickSet Covering(double min, double max, int targetCount = 5, double minStep = 0)
    {
        if (!double.IsFinite(min) || !double.IsFinite(max) || min > max)
            throw new ArgumentOutOfRangeException(nameof(min), $"Need finite min ≤ max, got [{min}, {max}].");
        ArgumentOutOfRangeException.ThrowIfLessThan(targetCount, 1);
        if (max - min <= 1e-9 * Math.Max(Math.Abs(min), Math.Abs(max)))
        {
            var pad = min == 0 ? 1 : Math.Abs(min) * 0.1;
            min -= pad;
            max += pad;
        }

        var step = NiceStep(max / targetCount - min / targetCount); // divided first: max - min may overflow
        if (step < minStep) step = NiceStep(minStep);
        var first = Math.Floor(min / step + 1e-9);
        var last = Math.Ceiling(max / step - 1e-9);
        var decimals = Math.Clamp(-(int)Math.Floor(Math.Log10(step) + 1e-9), 0, 15);
        var values = new double[(int)(last - first) + 1];
        // Each tick is an integer multiple of the step, rounded to the decimals the step has, so 0.1 + 0.2 drift
        // never shows up as 0.30000000000000004.
        for (var i = 0; i < values.Length; i++) values[i] = Math.Round((first + i) * step, decimals);
        return new TickSet(values, step, decimals);
    }

    /// <summary>The nice number (1, 2 or 5 × 10^k) closest to <paramref name="rough"/> on a log scale.</summary>
    internal static double NiceStep(double rough)
    {
        if (!(rough > 0) || !double.IsFinite(rough)) throw new ArgumentOutOfRangeException(nameof(rough));
        var exponent = Math.Floor(Math.Log10(rough));
        var power = Math.Pow(10, exponent);
        var fraction = rough / power; // in [1, 10)
        // Thresholds at the geometric means of neighbouring nice numbers: √2, √10, √50.
        var nice = fraction < 1.4142 ? 1 : fraction < 3.1623 ? 2 : fraction < 7.0711 ? 5 : 10;
        return nice * power;
    }
}

/// <summary>A linear map from data values (the domain) to pixels (the range); the range may run backwards (y axes).</summary>
internal sealed record LinearScale(double DomainMin, double DomainMax, double RangeStart, double RangeEnd)
{
    /// <summary>The pixel position of <paramref name="value"/>; values outside the domain extrapolate.</summary>
    public double Map(double value)
    {
        var span = DomainMax - DomainMin;
        var t = span == 0 ? 0.5 : (value - DomainMin) / span;
        return RangeStart + t * (RangeEnd - RangeStart);
    }

    /// <summary>A scale whose domain is exactly the ticks' span.</summary>
    public static LinearScale FromTicks(TickSet ticks, double rangeStart, double rangeEnd) =>
        new(ticks.Min, ticks.Max, rangeStart, rangeEnd);
}
