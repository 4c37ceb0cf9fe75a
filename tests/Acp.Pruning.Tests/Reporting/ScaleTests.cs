using System.Globalization;
using Acp.Reporting;

namespace Acp.Pruning.Tests.Reporting;

public class ScaleTests
{
    [Theory]
    [InlineData(0.13, 0.1)]
    [InlineData(0.148, 0.2)] // 1.48 is nearer 2 than 1 on a log scale
    [InlineData(0.15, 0.2)]
    [InlineData(3.0, 2)]
    [InlineData(3.2, 5)]
    [InlineData(7.0, 5)]
    [InlineData(7.5, 10)]
    [InlineData(1, 1)]
    [InlineData(12.9, 10)]
    [InlineData(0.00042, 0.0005)]
    [InlineData(180_000, 200_000)]
    public void NiceStepPicksOneTwoOrFiveTimesAPowerOfTen(double rough, double expected) =>
        Assert.Equal(expected, TickSet.NiceStep(rough), 12);

    [Fact]
    public void TicksOfTheUnitIntervalAreTenthsByTwo()
    {
        var ticks = TickSet.Covering(0, 1, 5);
        Assert.Equal([0, 0.2, 0.4, 0.6, 0.8, 1.0], ticks.Values);
        Assert.Equal(1, ticks.Decimals);
    }

    [Fact]
    public void TickValuesCarryNoFloatingPointDrift()
    {
        // 3 × 0.1 is 0.30000000000000004 in binary floating point; the tick must be the literal 0.3.
        Assert.Equal([0, 0.1, 0.2, 0.3], TickSet.Covering(0, 0.3, 3).Values);
        Assert.Equal([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9], TickSet.Covering(0.13, 0.87, 8).Values);
    }

    [Fact]
    public void RangesAcrossZeroExtendToWholeSteps() =>
        Assert.Equal([-10, 0, 10, 20, 30, 40, 50], TickSet.Covering(-7.3, 42, 5).Values);

    [Fact]
    public void IntegerAxesNeverStepBelowTheMinimumStep()
    {
        Assert.Equal([0, 0.5, 1, 1.5, 2, 2.5, 3], TickSet.Covering(0, 3, 6).Values);
        Assert.Equal([0, 1, 2, 3], TickSet.Covering(0, 3, 6, minStep: 1).Values);
        Assert.Equal(0, TickSet.Covering(0, 3, 6, minStep: 1).Decimals);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(0)]
    [InlineData(-250)]
    [InlineData(0.875)]
    public void ASingleValueGetsAnAxisAroundIt(double value)
    {
        var ticks = TickSet.Covering(value, value);
        Assert.True(ticks.Min < value && value < ticks.Max, string.Join(", ", ticks.Values));
        Assert.InRange(ticks.Values.Count, 3, 12);
    }

    [Theory]
    [InlineData(double.NaN, 1)]
    [InlineData(0, double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity, 0)]
    [InlineData(2, 1)]
    public void RejectsRangesThatCannotBeDrawn(double min, double max) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => TickSet.Covering(min, max));

    [Fact]
    public void TicksCoverAnyRangeEvenlyAtNiceValues()
    {
        var random = new Random(7);
        for (var trial = 0; trial < 5000; trial++)
        {
            var magnitude = Math.Pow(10, random.Next(-6, 9));
            var a = (random.NextDouble() * 2 - 1) * magnitude;
            var b = a + random.NextDouble() * magnitude * (random.Next(4) == 0 ? 1e-3 : 1);
            var target = random.Next(1, 12);
            var ticks = TickSet.Covering(a, b, target);
            var v = ticks.Values;
            var context = $"[{a:R}, {b:R}] target {target}: {string.Join(", ", v.Select(x => x.ToString("R", CultureInfo.InvariantCulture)))}";

            Assert.True(v[0] <= a && v[^1] >= b, "does not cover the data: " + context);
            Assert.True(a - v[0] < ticks.Step * (1 + 1e-9) && v[^1] - b < ticks.Step * (1 + 1e-9), "more than a step of slack: " + context);
            var mantissa = ticks.Step / Math.Pow(10, Math.Floor(Math.Log10(ticks.Step) + 1e-9));
            Assert.Contains(Math.Round(mantissa, 9), new[] { 1.0, 2.0, 5.0 });
            var intervals = v.Count - 1;
            Assert.True(intervals >= 0.6 * target - 1e-9 && intervals <= 1.6 * target + 2, $"{intervals} intervals: " + context);
            for (var i = 1; i < v.Count; i++)
                Assert.True(Math.Abs(v[i] - v[i - 1] - ticks.Step) <= ticks.Step * 1e-6, "uneven: " + context);
            // Printing with the tick set's decimals loses nothing and tells every tick apart.
            var printed = v.Select(x => x.ToString("F" + ticks.Decimals, CultureInfo.InvariantCulture)).ToList();
            Assert.Equal(printed.Count, printed.Distinct().Count());
            for (var i = 0; i < v.Count; i++)
                Assert.True(Math.Abs(double.Parse(printed[i], CultureInfo.InvariantCulture) - v[i]) <= ticks.Step * 1e-6, "rounded: " + context);
        }
    }

    [Fact]
    public void ScalesMapTheDomainOntoTheRangeEitherWayRound()
    {
        var x = new LinearScale(0, 50, 100, 600);
        Assert.Equal(100, x.Map(0));
        Assert.Equal(600, x.Map(50));
        Assert.Equal(350, x.Map(25));
        Assert.Equal(700, x.Map(60)); // outside the domain: extrapolated, not clamped

        var y = LinearScale.FromTicks(TickSet.Covering(0.84, 0.92, 4), 400, 60); // SVG's y grows downwards
        Assert.Equal(400, y.Map(y.DomainMin), 9);
        Assert.Equal(60, y.Map(y.DomainMax), 9);
        Assert.True(y.Map(0.9) < y.Map(0.85));
    }
}
