namespace Acp.Reporting;

/// <summary>How a legend entry shows its series.</summary>
internal enum LegendSwatch
{
    /// <summary>A short thick bar, for lines.</summary>
    Line,

    /// <summary>A dashed bar, for reference lines.</summary>
    DashedLine,

    /// <summary>A filled square, for bars.</summary>
    Box,

    /// <summary>The series' own marker shape.</summary>
    Marker,
}

/// <summary>One entry of a chart's legend.</summary>
internal sealed record LegendItem(string Label, string Colour, LegendSwatch Swatch, MarkerShape Shape = MarkerShape.Circle,
    string? Outline = null);

/// <summary>The plot rectangle of a chart, in SVG user units.</summary>
internal readonly record struct PlotArea(double Left, double Top, double Right, double Bottom)
{
    public double Width => Right - Left;
    public double Height => Bottom - Top;
}

/// <summary>
/// The frame every chart shares: the <c>svg</c> element with its accessible title and description, a visible
/// title, a legend row under it, axes with ticks, grid lines and axis titles. Charts draw their data in between.
/// </summary>
/// <remarks>
/// Fonts and colours are attributes rather than page CSS, so a chart copied out of the report looks the same.
/// Swatches sit on whole pixels so their colour survives anti-aliasing exactly (the browser test relies on that).
/// </remarks>
internal sealed class ChartCanvas
{
    /// <summary>The chart's font stack: the DejaVu fonts Debian installs, then common fallbacks.</summary>
    public const string FontFamily = "'DejaVu Sans', 'Liberation Sans', 'Helvetica Neue', Arial, sans-serif";

    /// <summary>Tick label size in user units.</summary>
    public const double TickFontSize = 12;

    /// <summary>Rough advance of one character at 1 user unit of font size (DejaVu Sans is wide; this errs long).</summary>
    public const double CharWidthPerUnit = 0.62;

    private const double TitleBaseline = 26;
    private const double LegendTop = 40;

    private readonly MarkupWriter _w;

    /// <summary>Opens the <c>svg</c> element and writes its title; draw, then call <see cref="Close"/>.</summary>
    public ChartCanvas(MarkupWriter writer, string id, double width, double height, string title, string description)
    {
        _w = writer;
        Width = width;
        Height = height;
        _w.Start("svg",
            new Attr("xmlns", "http://www.w3.org/2000/svg"),
            new Attr("id", id),
            new Attr("class", "chart"),
            new Attr("role", "img"),
            new Attr("aria-labelledby", $"{id}-title {id}-desc"),
            new Attr("width", width),
            new Attr("height", height),
            new Attr("viewBox", $"0 0 {Markup.Coord(width)} {Markup.Coord(height)}"),
            new Attr("font-family", FontFamily));
        _w.Element("title", title, new Attr("id", $"{id}-title"));
        _w.Element("desc", description, new Attr("id", $"{id}-desc"));
        _w.Empty("rect", new Attr("class", "background"), new Attr("width", width), new Attr("height", height), new Attr("fill", "#ffffff"));
        _w.Element("text", title, new Attr("class", "chart-title"), new Attr("x", 16), new Attr("y", TitleBaseline),
            new Attr("font-size", 15), new Attr("font-weight", "600"), new Attr("fill", Palette.Ink));
    }

    /// <summary>The chart's width in user units.</summary>
    public double Width { get; }

    /// <summary>The chart's height in user units.</summary>
    public double Height { get; }

    /// <summary>The writer, for the chart's own elements.</summary>
    public MarkupWriter Writer => _w;

    /// <summary>Estimated width of <paramref name="text"/> at <paramref name="fontSize"/>, in user units.</summary>
    public static double TextWidth(string text, double fontSize) => text.Length * fontSize * CharWidthPerUnit;

    /// <summary>Where a legend of <paramref name="items"/> starting at <paramref name="left"/> ends, so plots can start below it.</summary>
    public static double LegendBottom(double chartWidth, double left, IReadOnlyList<LegendItem> items) =>
        LayOutLegend(chartWidth, left, items).Bottom;

    /// <summary>Draws the legend in rows under the title, wrapping when a row runs out of width.</summary>
    public void Legend(double left, IReadOnlyList<LegendItem> items)
    {
        _w.Start("g", new Attr("class", "legend"));
        foreach (var (item, x, y) in LayOutLegend(Width, left, items).Positions)
        {
            var midY = y + 6;
            switch (item.Swatch)
            {
                case LegendSwatch.Line:
                    _w.Empty("rect", new Attr("x", x), new Attr("y", midY - 2), new Attr("width", 20), new Attr("height", 4),
                        new Attr("fill", item.Colour));
                    break;
                case LegendSwatch.DashedLine:
                    _w.Empty("line", new Attr("x1", x), new Attr("y1", midY), new Attr("x2", x + 20), new Attr("y2", midY),
                        new Attr("stroke", item.Colour), new Attr("stroke-width", 2), new Attr("stroke-dasharray", "5 3"));
                    break;
                case LegendSwatch.Box:
                    _w.Empty("rect", new Attr("x", x + 4), new Attr("y", midY - 6), new Attr("width", 12), new Attr("height", 12),
                        new Attr("fill", item.Colour));
                    break;
                case LegendSwatch.Marker:
                    Markers.Draw(_w, item.Shape, x + 10, midY, 6, item.Colour, item.Outline);
                    break;
            }
            _w.Element("text", item.Label, new Attr("x", x + 26), new Attr("y", midY + 4.5), new Attr("font-size", LegendFontSize),
                new Attr("fill", Palette.Ink));
        }
        _w.End();
    }

    private const double LegendFontSize = 12.5;

    private static (List<(LegendItem Item, double X, double Y)> Positions, double Bottom) LayOutLegend(double chartWidth,
        double left, IReadOnlyList<LegendItem> items)
    {
        const double rowHeight = 20, gap = 22;
        var positions = new List<(LegendItem, double, double)>(items.Count);
        // Whole pixels, so the swatches' colours come out exact.
        double start = Math.Round(left), x = start, y = LegendTop;
        foreach (var item in items)
        {
            var itemWidth = 26 + TextWidth(item.Label, LegendFontSize);
            if (x > start && x + itemWidth > chartWidth - 12)
            {
                x = start;
                y += rowHeight;
            }
            positions.Add((item, x, y));
            x = Math.Round(x + itemWidth + gap);
        }
        return (positions, y + rowHeight + 8);
    }

    /// <summary>A horizontal axis at the plot's bottom (or top), with vertical grid lines across the plot.</summary>
    public void XAxis(PlotArea plot, LinearScale scale, TickSet ticks, Func<double, string> format, string? label,
        bool atTop = false, bool grid = true)
    {
        var axisY = atTop ? plot.Top : plot.Bottom;
        _w.Start("g", new Attr("class", atTop ? "axis x-axis top" : "axis x-axis"));
        foreach (var t in ticks.Values)
        {
            var x = scale.Map(t);
            if (grid && !atTop)
                _w.Empty("line", new Attr("class", "grid"), new Attr("x1", x), new Attr("y1", plot.Top), new Attr("x2", x),
                    new Attr("y2", plot.Bottom), new Attr("stroke", Palette.Grid), new Attr("stroke-width", 1));
            var tickEnd = atTop ? axisY - 5 : axisY + 5;
            _w.Empty("line", new Attr("x1", x), new Attr("y1", axisY), new Attr("x2", x), new Attr("y2", tickEnd),
                new Attr("stroke", Palette.Axis), new Attr("stroke-width", 1));
            _w.Element("text", format(t), new Attr("class", "tick"), new Attr("x", x), new Attr("y", atTop ? axisY - 9 : axisY + 19),
                new Attr("text-anchor", "middle"), new Attr("font-size", TickFontSize), new Attr("fill", Palette.MutedInk));
        }
        _w.Empty("line", new Attr("x1", plot.Left), new Attr("y1", axisY), new Attr("x2", plot.Right), new Attr("y2", axisY),
            new Attr("stroke", Palette.Axis), new Attr("stroke-width", 1));
        if (label is not null)
            _w.Element("text", label, new Attr("class", "axis-label"), new Attr("x", (plot.Left + plot.Right) / 2),
                new Attr("y", atTop ? axisY - 28 : axisY + 40), new Attr("text-anchor", "middle"), new Attr("font-size", 13),
                new Attr("fill", Palette.MutedInk));
        _w.End();
    }

    /// <summary>A vertical axis at the plot's left, with horizontal grid lines across the plot.</summary>
    public void YAxis(PlotArea plot, LinearScale scale, TickSet ticks, Func<double, string> format, string label)
    {
        _w.Start("g", new Attr("class", "axis y-axis"));
        var widest = 0.0;
        foreach (var t in ticks.Values)
        {
            var y = scale.Map(t);
            var text = format(t);
            widest = Math.Max(widest, TextWidth(text, TickFontSize));
            _w.Empty("line", new Attr("class", "grid"), new Attr("x1", plot.Left), new Attr("y1", y), new Attr("x2", plot.Right),
                new Attr("y2", y), new Attr("stroke", Palette.Grid), new Attr("stroke-width", 1));
            _w.Empty("line", new Attr("x1", plot.Left - 5), new Attr("y1", y), new Attr("x2", plot.Left), new Attr("y2", y),
                new Attr("stroke", Palette.Axis), new Attr("stroke-width", 1));
            // Centred on the tick by dy, so the label's y is the tick's own position.
            _w.Element("text", text, new Attr("class", "tick"), new Attr("x", plot.Left - 9), new Attr("y", y), new Attr("dy", "0.35em"),
                new Attr("text-anchor", "end"), new Attr("font-size", TickFontSize), new Attr("fill", Palette.MutedInk));
        }
        _w.Empty("line", new Attr("x1", plot.Left), new Attr("y1", plot.Top), new Attr("x2", plot.Left), new Attr("y2", plot.Bottom),
            new Attr("stroke", Palette.Axis), new Attr("stroke-width", 1));
        var labelX = Math.Max(14, plot.Left - 9 - widest - 14);
        var labelY = (plot.Top + plot.Bottom) / 2;
        _w.Element("text", label, new Attr("class", "axis-label"), new Attr("x", labelX), new Attr("y", labelY),
            new Attr("text-anchor", "middle"), new Attr("font-size", 13), new Attr("fill", Palette.MutedInk),
            new Attr("transform", $"rotate(-90 {Markup.Coord(labelX)} {Markup.Coord(labelY)})"));
        _w.End();
    }

    /// <summary>Closes the <c>svg</c> element.</summary>
    public void Close() => _w.End();
}
