namespace Acp.Reporting;

/// <summary>
/// Grouped horizontal bars of every layer's width before and after pruning. Layers run down the page, so a network
/// with a hundred layers stays readable: names are never rotated, the chart grows taller instead, rows are
/// shaded alternately, and long networks get the width axis at the top as well as the bottom.
/// </summary>
internal static class WidthsChart
{
    public const string Id = "widths-chart";
    private const double Width = 900, RowHeight = 22, BarHeight = 8, LabelFontSize = 12, RightMargin = 118;
    private const int MaxLabelLength = 46, RowsBeforeTopAxis = 16;

    /// <summary>Writes the chart; <paramref name="layers"/> must not be empty.</summary>
    public static void Render(MarkupWriter w, IReadOnlyList<LayerWidth> layers)
    {
        var legend = new List<LegendItem>
        {
            new("Original width", Palette.Original, LegendSwatch.Box),
            new("Pruned width", Palette.Primary, LegendSwatch.Box),
        };
        var labels = layers.Select(l => Markup.Ellipsize(l.Name, MaxLabelLength)).ToList();
        var widestLabel = labels.Max(l => ChartCanvas.TextWidth(l, LabelFontSize));
        var topAxis = layers.Count > RowsBeforeTopAxis;
        var left = Math.Round(Math.Clamp(widestLabel + 20, 90, 360));
        var top = Math.Round(ChartCanvas.LegendBottom(Width, 16, legend) + (topAxis ? 34 : 4));
        var plot = new PlotArea(left, top, Width - RightMargin, top + layers.Count * RowHeight);
        var height = plot.Bottom + 58;

        var maxWidth = layers.Max(l => Math.Max(Math.Max(l.OriginalWidth, l.PrunedWidth), 0));
        var ticks = TickSet.Covering(0, Math.Max(maxWidth, 1), 6, minStep: 1);
        var x = LinearScale.FromTicks(ticks, plot.Left, plot.Right);
        var original = layers.Sum(l => (long)Math.Max(l.OriginalWidth, 0));
        var pruned = layers.Sum(l => (long)Math.Max(l.PrunedWidth, 0));

        var canvas = new ChartCanvas(w, Id, Width, height, "Output channels per layer, before and after pruning",
            $"{Markup.Fixed(layers.Count, 0)} layers; {Markup.Fixed(pruned, 0)} of {Markup.Fixed(original, 0)} channels kept in total.");
        canvas.Legend(16, legend);
        // Shading first, so grid lines and bars sit on top of it.
        w.Start("g", new Attr("class", "row-shading"));
        for (var i = 1; i < layers.Count; i += 2)
            w.Empty("rect", new Attr("x", 0), new Attr("y", plot.Top + i * RowHeight), new Attr("width", Width),
                new Attr("height", RowHeight), new Attr("fill", "#f5f7fa"));
        w.End();
        string Format(double v) => Markup.Fixed(v, 0);
        canvas.XAxis(plot, x, ticks, Format, "Output channels");
        if (topAxis) canvas.XAxis(plot, x, ticks, Format, null, atTop: true);

        w.Start("g", new Attr("class", "bars"));
        for (var i = 0; i < layers.Count; i++)
        {
            var layer = layers[i];
            var rowTop = plot.Top + i * RowHeight;
            var originalWidth = Math.Max(layer.OriginalWidth, 0);
            var prunedWidth = Math.Max(layer.PrunedWidth, 0);
            var kept = originalWidth > 0 ? $" ({Markup.Fixed(100.0 * prunedWidth / originalWidth, 0)}%)" : "";
            w.Start("g", new Attr("class", "layer"));
            w.Element("title", $"{layer.Name}: {Markup.Fixed(prunedWidth, 0)} of {Markup.Fixed(originalWidth, 0)} channels kept{kept}");
            w.Element("text", labels[i], new Attr("class", "layer-name"), new Attr("x", plot.Left - 8), new Attr("y", rowTop + 15),
                new Attr("text-anchor", "end"), new Attr("font-size", LabelFontSize), new Attr("fill", Palette.Ink));
            Bar(w, "bar original", x, originalWidth, rowTop + 3, Palette.Original);
            Bar(w, "bar pruned", x, prunedWidth, rowTop + 3 + BarHeight, Palette.Primary);
            w.Element("text", $"{Markup.Fixed(prunedWidth, 0)} / {Markup.Fixed(originalWidth, 0)}{kept}", new Attr("class", "layer-value"),
                new Attr("x", x.Map(Math.Max(originalWidth, prunedWidth)) + 6), new Attr("y", rowTop + 15),
                new Attr("font-size", 11), new Attr("fill", Palette.MutedInk));
            w.End();
        }
        w.End();
        canvas.Close();
    }

    private static void Bar(MarkupWriter w, string cssClass, LinearScale x, int value, double y, string colour) =>
        w.Empty("rect", new Attr("class", cssClass), new Attr("x", x.Map(0)), new Attr("y", y),
            new Attr("width", x.Map(value) - x.Map(0)), new Attr("height", BarHeight), new Attr("fill", colour));
}
