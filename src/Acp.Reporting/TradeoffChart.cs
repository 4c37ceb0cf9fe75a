namespace Acp.Reporting;

/// <summary>
/// Scatter of accuracy against MACs for every evaluated candidate, the chosen structure in red on top, baselines
/// as labelled markers of their own shapes, and the budget as a dashed vertical line.
/// </summary>
internal static class TradeoffChart
{
    public const string Id = "tradeoff-chart";
    private const double Width = 900, Height = 470;
    private const int MaxBaselineLabelLength = 28;

    /// <summary>Whether a point can be placed (both coordinates finite).</summary>
    public static bool IsDrawable(double macsFraction, double accuracy) => double.IsFinite(macsFraction) && double.IsFinite(accuracy);

    /// <summary>Whether there is anything to draw: a drawable candidate or baseline.</summary>
    public static bool CanDraw(ReportData data) =>
        data.Candidates.Any(c => IsDrawable(c.MacsFraction, c.Accuracy)) || data.Baselines.Any(b => IsDrawable(b.MacsFraction, b.Accuracy));

    /// <summary>Writes the chart; <see cref="CanDraw"/> must hold.</summary>
    public static void Render(MarkupWriter w, ReportData data)
    {
        var candidates = data.Candidates.Where(c => IsDrawable(c.MacsFraction, c.Accuracy)).ToList();
        var baselines = data.Baselines.Where(b => IsDrawable(b.MacsFraction, b.Accuracy)).ToList();
        var target = data.TargetFlopsFraction is { } t && double.IsFinite(t) ? t : (double?)null;

        var legend = new List<LegendItem>();
        if (candidates.Any(c => !c.IsBest)) legend.Add(new("Evaluated candidate", Palette.Candidate, LegendSwatch.Marker));
        if (candidates.Any(c => c.IsBest)) legend.Add(new("Chosen structure", Palette.Chosen, LegendSwatch.Marker, Outline: Palette.ChosenOutline));
        for (var i = 0; i < baselines.Count; i++)
            legend.Add(new(Markup.Ellipsize(baselines[i].Name, MaxBaselineLabelLength), BaselineColour(i), LegendSwatch.Marker,
                Markers.ForBaseline(i), "#ffffff"));
        if (target is not null) legend.Add(new("MACs budget", Palette.Target, LegendSwatch.DashedLine));

        var xs = candidates.Select(c => c.MacsFraction).Concat(baselines.Select(b => b.MacsFraction)).ToList();
        if (target is { } budget) xs.Add(budget);
        var ys = candidates.Select(c => c.Accuracy).Concat(baselines.Select(b => b.Accuracy)).ToList();
        var xTicks = PaddedTicks(xs, 6);
        var yTicks = PaddedTicks(ys, 5);
        var xFormat = PercentFormat(xTicks);
        var yFormat = PercentFormat(yTicks);
        var widestY = yTicks.Values.Max(v => ChartCanvas.TextWidth(yFormat(v), ChartCanvas.TickFontSize));
        var plot = new PlotArea(Math.Round(Math.Max(64, widestY + 44)), ChartCanvas.LegendBottom(Width, 16, legend) + 8, Width - 28, Height - 56);
        var x = LinearScale.FromTicks(xTicks, plot.Left, plot.Right);
        var y = LinearScale.FromTicks(yTicks, plot.Bottom, plot.Top);

        var chosen = candidates.FirstOrDefault(c => c.IsBest);
        var description = $"{Markup.Fixed(candidates.Count, 0)} evaluated candidates and {Markup.Fixed(baselines.Count, 0)} baselines"
            + (chosen is null ? "." : $"; the chosen structure has {Percent(chosen.MacsFraction)} of the original MACs and {Percent(chosen.Accuracy)} accuracy.");
        var canvas = new ChartCanvas(w, Id, Width, Height, "Accuracy against MACs of every evaluated structure", description);
        canvas.Legend(16, legend);
        canvas.YAxis(plot, y, yTicks, yFormat, "Accuracy");
        canvas.XAxis(plot, x, xTicks, xFormat, "MACs, % of the original model");

        if (target is { } line)
        {
            var lx = x.Map(line);
            w.Start("g", new Attr("class", "target"));
            w.Empty("line", new Attr("x1", lx), new Attr("y1", plot.Top), new Attr("x2", lx), new Attr("y2", plot.Bottom),
                new Attr("stroke", Palette.Target), new Attr("stroke-width", 1.5), new Attr("stroke-dasharray", "6 4"));
            PointLabel(w, plot, lx, plot.Top + 6, "budget", Palette.Target);
            w.End();
        }

        w.Start("g", new Attr("class", "candidates"));
        foreach (var c in candidates.Where(c => !c.IsBest))
            Markers.Draw(w, MarkerShape.Circle, x.Map(c.MacsFraction), y.Map(c.Accuracy), 4, Palette.Candidate, null, "candidate",
                fillOpacity: 0.6);
        // The chosen structure last, so no candidate hides it.
        foreach (var c in candidates.Where(c => c.IsBest))
            Markers.Draw(w, MarkerShape.Circle, x.Map(c.MacsFraction), y.Map(c.Accuracy), 7, Palette.Chosen, Palette.ChosenOutline,
                "candidate best", $"Chosen: {Percent(c.MacsFraction)} of MACs, {Percent(c.Accuracy)} accuracy");
        w.End();

        w.Start("g", new Attr("class", "baselines"));
        for (var i = 0; i < baselines.Count; i++)
        {
            var b = baselines[i];
            double bx = x.Map(b.MacsFraction), by = y.Map(b.Accuracy);
            Markers.Draw(w, Markers.ForBaseline(i), bx, by, 6.5, BaselineColour(i), "#ffffff", "baseline",
                $"{b.Name}: {Percent(b.MacsFraction)} of MACs, {Percent(b.Accuracy)} accuracy");
            PointLabel(w, plot, bx, by, Markup.Ellipsize(b.Name, MaxBaselineLabelLength), BaselineColour(i));
        }
        w.End();
        canvas.Close();
    }

    private static string BaselineColour(int index) => Palette.Baselines[index % Palette.Baselines.Count];

    private static string Percent(double fraction) => Markup.Fixed(100 * fraction, 1) + "%";

    private static Func<double, string> PercentFormat(TickSet ticks)
    {
        var decimals = Math.Max(0, ticks.Decimals - 2);
        return v => Markup.Fixed(100 * v, decimals) + "%";
    }

    /// <summary>Ticks covering the values with a little room, so no marker sits on an axis.</summary>
    private static TickSet PaddedTicks(List<double> values, int targetCount)
    {
        double min = values.Min(), max = values.Max();
        var pad = Math.Max(max - min, 0.01) * 0.04;
        return TickSet.Covering(min - pad, max + pad, targetCount);
    }

    /// <summary>A label beside a point, on the side with room, with a white halo so it reads over markers and grid.</summary>
    private static void PointLabel(MarkupWriter w, PlotArea plot, double px, double py, string text, string colour)
    {
        const double fontSize = 12;
        var fitsRight = px + 10 + ChartCanvas.TextWidth(text, fontSize) <= plot.Right;
        w.Element("text", text, new Attr("class", "point-label"), new Attr("x", fitsRight ? px + 10 : px - 10),
            new Attr("y", Math.Max(py + 4, plot.Top + 12)), new Attr("text-anchor", fitsRight ? "start" : "end"),
            new Attr("font-size", fontSize), new Attr("font-weight", "600"), new Attr("fill", colour), new Attr("stroke", "#ffffff"),
            new Attr("stroke-width", 3), new Attr("stroke-linejoin", "round"), new Attr("paint-order", "stroke"));
    }
}
