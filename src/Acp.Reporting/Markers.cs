namespace Acp.Reporting;

/// <summary>Marker shapes for scatter points; baselines differ by shape as well as colour, so print in grey still tells them apart.</summary>
internal enum MarkerShape
{
    Circle,
    Diamond,
    Square,
    TriangleUp,
    TriangleDown,
}

/// <summary>Draws markers of equal visual weight centred on a point.</summary>
internal static class Markers
{
    /// <summary>The shape for the <paramref name="index"/>-th baseline.</summary>
    public static MarkerShape ForBaseline(int index) =>
        (index % 4) switch { 0 => MarkerShape.Diamond, 1 => MarkerShape.Square, 2 => MarkerShape.TriangleUp, _ => MarkerShape.TriangleDown };

    /// <summary>
    /// Writes one marker of "radius" <paramref name="r"/> (half its width) at (<paramref name="cx"/>, <paramref name="cy"/>),
    /// with an optional outline, class and tooltip.
    /// </summary>
    public static void Draw(MarkupWriter w, MarkerShape shape, double cx, double cy, double r, string fill, string? outline,
        string? cssClass = null, string? tooltip = null, double fillOpacity = 1)
    {
        var attributes = new List<Attr>(8);
        if (cssClass is not null) attributes.Add(new Attr("class", cssClass));
        var element = shape == MarkerShape.Circle ? "circle" : "path";
        if (shape == MarkerShape.Circle)
        {
            attributes.Add(new Attr("cx", cx));
            attributes.Add(new Attr("cy", cy));
            attributes.Add(new Attr("r", r));
        }
        else
        {
            attributes.Add(new Attr("d", PathFor(shape, cx, cy, r)));
        }
        attributes.Add(new Attr("fill", fill));
        if (fillOpacity < 1) attributes.Add(new Attr("fill-opacity", fillOpacity));
        if (outline is not null)
        {
            attributes.Add(new Attr("stroke", outline));
            attributes.Add(new Attr("stroke-width", 1.5));
        }
        if (tooltip is null)
        {
            w.Empty(element, [.. attributes]);
        }
        else
        {
            w.Start(element, [.. attributes]);
            w.Element("title", tooltip);
            w.End();
        }
    }

    private static string PathFor(MarkerShape shape, double cx, double cy, double r)
    {
        static string P(double x, double y) => $"{Markup.Coord(x)} {Markup.Coord(y)}";
        switch (shape)
        {
            case MarkerShape.Diamond:
                var d = r * 1.25; // a diamond looks smaller than a square of the same width
                return $"M{P(cx, cy - d)} L{P(cx + d, cy)} L{P(cx, cy + d)} L{P(cx - d, cy)} Z";
            case MarkerShape.Square:
                var s = r * 0.9;
                return $"M{P(cx - s, cy - s)} L{P(cx + s, cy - s)} L{P(cx + s, cy + s)} L{P(cx - s, cy + s)} Z";
            case MarkerShape.TriangleUp:
                var u = r * 1.2;
                return $"M{P(cx, cy - u)} L{P(cx + u, cy + u * 0.75)} L{P(cx - u, cy + u * 0.75)} Z";
            case MarkerShape.TriangleDown:
                var v = r * 1.2;
                return $"M{P(cx, cy + v)} L{P(cx + v, cy - v * 0.75)} L{P(cx - v, cy - v * 0.75)} Z";
            default:
                throw new ArgumentOutOfRangeException(nameof(shape), shape, null);
        }
    }
}
