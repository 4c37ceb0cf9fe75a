using System.Text;

namespace Acp.Reporting;

/// <summary>Line chart of the swarm's best and mean fitness per cycle.</summary>
internal static class ConvergenceChart
{
    public const string Id = "convergence-chart";
    private const double Width = 900, Height = 400;
    private const int MaxPointsWithMarkers = 60;

    /// <summary>Whether there is anything to draw: at least one finite fitness value.</summary>
    public static bool CanDraw(IReadOnlyList<ConvergencePoint> points) =>
        points.Any(p => double.IsFinite(p.BestFitness) || double.IsFinite(p.MeanFitness));

    /// <summary>Writes the chart; <see cref="CanDraw"/> must hold.</summary>
    public static void Render(MarkupWriter w, IReadOnlyList<ConvergencePoint> points)
    {
        var ordered = points.OrderBy(p => p.Cycle).ToList();
        var values = ordered.SelectMany(p => new[] { p.BestFitness, p.MeanFitness }).Where(double.IsFinite).ToList();
        var hasMean = ordered.Any(p => double.IsFinite(p.MeanFitness));

        var legend = new List<LegendItem> { new("Best fitness so far", Palette.Primary, LegendSwatch.Line) };
        if (hasMean) legend.Add(new LegendItem("Mean fitness of the swarm", Palette.Secondary, LegendSwatch.Line));

        var xTicks = TickSet.Covering(ordered[0].Cycle, ordered[^1].Cycle, Math.Clamp(ordered[^1].Cycle - ordered[0].Cycle, 1, 10), minStep: 1);
        var yTicks = TickSet.Covering(values.Min(), values.Max(), 5);
        var yFormat = (double v) => Markup.Fixed(v, yTicks.Decimals);
        var widestY = yTicks.Values.Max(v => ChartCanvas.TextWidth(yFormat(v), ChartCanvas.TickFontSize));
        var plot = new PlotArea(Math.Round(Math.Max(64, widestY + 44)), ChartCanvas.LegendBottom(Width, 16, legend) + 8, Width - 28, Height - 56);
        var x = LinearScale.FromTicks(xTicks, plot.Left, plot.Right);
        var y = LinearScale.FromTicks(yTicks, plot.Bottom, plot.Top);

        var canvas = new ChartCanvas(w, Id, Width, Height, "Fitness per PSO cycle",
            $"Best and mean fitness over {Markup.Fixed(ordered.Count, 0)} search cycles; best fitness {Describe(ordered[0].BestFitness)} at the first cycle and {Describe(ordered[^1].BestFitness)} at the last.");
        canvas.Legend(16, legend);
        canvas.YAxis(plot, y, yTicks, yFormat, "Fitness");
        canvas.XAxis(plot, x, xTicks, v => Markup.Fixed(v, 0), "Cycle");
        if (hasMean) Series(w, ordered, p => p.MeanFitness, x, y, "mean", Palette.Secondary);
        Series(w, ordered, p => p.BestFitness, x, y, "best", Palette.Primary);
        canvas.Close();
    }

    private static string Describe(double value) => double.IsFinite(value) ? Markup.Fixed(value, 4) : "none";

    /// <summary>One line with markers; non-finite values break the line rather than dragging it to an edge.</summary>
    private static void Series(MarkupWriter w, List<ConvergencePoint> points, Func<ConvergencePoint, double> value,
        LinearScale x, LinearScale y, string name, string colour)
    {
        w.Start("g", new Attr("class", $"series {name}"));
        var path = new StringBuilder();
        var penDown = false;
        foreach (var p in points)
        {
            var v = value(p);
            if (!double.IsFinite(v))
            {
                penDown = false;
                continue;
            }
            path.Append(penDown ? " L" : path.Length == 0 ? "M" : " M").Append(Markup.Coord(x.Map(p.Cycle))).Append(' ')
                .Append(Markup.Coord(y.Map(v)));
            penDown = true;
        }
        w.Empty("path", new Attr("class", "line"), new Attr("d", path.ToString()), new Attr("fill", "none"), new Attr("stroke", colour),
            new Attr("stroke-width", 2.5), new Attr("stroke-linejoin", "round"), new Attr("stroke-linecap", "round"));
        if (points.Count <= MaxPointsWithMarkers)
        {
            foreach (var p in points)
            {
                var v = value(p);
                if (!double.IsFinite(v)) continue;
                Markers.Draw(w, MarkerShape.Circle, x.Map(p.Cycle), y.Map(v), 3.5, colour, "#ffffff", "marker",
                    $"cycle {Markup.Fixed(p.Cycle, 0)}: {name} fitness {Markup.Fixed(v, 4)}");
            }
        }
        w.End();
    }
}
