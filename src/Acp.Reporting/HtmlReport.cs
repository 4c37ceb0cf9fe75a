using System.Text;

namespace Acp.Reporting;

/// <summary>
/// Renders a <see cref="ReportData"/> as one self-contained HTML file: inline CSS and inline SVG charts, no scripts
/// and no external resources, so it opens offline, can be mailed or archived as is, and prints well.
/// </summary>
/// <remarks>
/// The markup is also well-formed XML (every element closed, SVG in its namespace), so tools can parse it without
/// an HTML parser. Output is deterministic: the same data gives the same bytes, whatever the current culture.
/// </remarks>
public static class HtmlReport
{
    /// <summary>The file name <see cref="WriteAsync"/> writes inside its directory.</summary>
    public const string FileName = "report.html";

    /// <summary>Renders the report as an HTML document.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="data"/> or one of its lists is null.</exception>
    public static string Render(ReportData data)
    {
        ArgumentNullException.ThrowIfNull(data);
        Validate(data);
        var w = new MarkupWriter();
        w.Trusted("<!DOCTYPE html>\n");
        w.Start("html", new Attr("xmlns", "http://www.w3.org/1999/xhtml"), new Attr("lang", "en"));
        w.Start("head");
        w.Empty("meta", new Attr("charset", "utf-8"));
        w.Empty("meta", new Attr("name", "viewport"), new Attr("content", "width=device-width, initial-scale=1"));
        w.Empty("meta", new Attr("name", "generator"), new Attr("content", "Acp"));
        w.Element("title", string.IsNullOrWhiteSpace(data.ModelName) ? data.Title : $"{data.Title}: {data.ModelName}");
        w.Start("style");
        w.Trusted(StyleSheet);
        w.End();
        w.End();
        w.Start("body");
        w.Start("main");

        Header(w, data);
        Summary(w, data.Summary);
        Tradeoff(w, data);
        Widths(w, data.Layers);
        Convergence(w, data.Convergence);
        if (data.Notes.Count > 0)
        {
            w.Start("section", new Attr("id", "notes"));
            w.Element("h2", "Notes");
            foreach (var note in data.Notes) w.Element("p", note, new Attr("class", "note"));
            w.End();
        }
        w.Start("footer");
        w.Element("p", "Written by Acp, automatic channel pruning for .NET.");
        w.End();

        w.End(); // main
        w.End(); // body
        w.End(); // html
        return w.ToString();
    }

    /// <summary>
    /// Writes the report to <c>report.html</c> in <paramref name="directory"/>, creating the directory if needed. The
    /// file is written to a temporary name and moved into place, so a reader never sees half a report.
    /// </summary>
    /// <returns>The full path of the written file.</returns>
    /// <exception cref="ArgumentException"><paramref name="directory"/> is empty.</exception>
    public static async Task<string> WriteAsync(ReportData data, string directory, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        var html = Render(data);
        var folder = Path.GetFullPath(directory);
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, FileName);
        var temporary = Path.Combine(folder, $".{FileName}.{Guid.NewGuid():N}.tmp");
        try
        {
            await File.WriteAllTextAsync(temporary, html, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), cancellationToken)
                .ConfigureAwait(false);
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
        return path;
    }

    private static void Validate(ReportData data)
    {
        // Records with init-only lists can still be handed nulls through `with` or object initialisers.
        ArgumentNullException.ThrowIfNull(data.Summary, "data.Summary");
        ArgumentNullException.ThrowIfNull(data.Convergence, "data.Convergence");
        ArgumentNullException.ThrowIfNull(data.Layers, "data.Layers");
        ArgumentNullException.ThrowIfNull(data.Candidates, "data.Candidates");
        ArgumentNullException.ThrowIfNull(data.Baselines, "data.Baselines");
        ArgumentNullException.ThrowIfNull(data.Notes, "data.Notes");
    }

    private static void Header(MarkupWriter w, ReportData data)
    {
        w.Start("header");
        w.Element("h1", data.Title);
        w.Start("dl", new Attr("class", "facts"));
        Fact(w, "Model", data.ModelName);
        Fact(w, "Strategy", data.Strategy);
        Fact(w, "Target", data.TargetDescription);
        w.End();
        w.End();
    }

    private static void Fact(MarkupWriter w, string name, string value)
    {
        w.Element("dt", name);
        w.Element("dd", string.IsNullOrWhiteSpace(value) ? "not given" : value);
    }

    private static void Summary(MarkupWriter w, IReadOnlyList<ReportRow> rows)
    {
        w.Start("section", new Attr("id", "summary"));
        w.Element("h2", "Before and after");
        if (rows.Count == 0)
        {
            Empty(w, "No measurements were recorded for this run.");
        }
        else
        {
            w.Start("table", new Attr("id", "summary-table"));
            w.Start("thead");
            w.Start("tr");
            w.Element("th", "Metric", new Attr("scope", "col"));
            w.Element("th", "Before", new Attr("scope", "col"));
            w.Element("th", "After", new Attr("scope", "col"));
            w.End();
            w.End();
            w.Start("tbody");
            foreach (var row in rows)
            {
                w.Start("tr");
                w.Element("th", row.Metric, new Attr("scope", "row"));
                w.Element("td", row.Before);
                w.Element("td", row.After);
                w.End();
            }
            w.End();
            w.End();
        }
        w.End();
    }

    private static void Tradeoff(MarkupWriter w, ReportData data)
    {
        w.Start("section", new Attr("id", "tradeoff"));
        w.Element("h2", "Accuracy against cost");
        if (!TradeoffChart.CanDraw(data))
        {
            Empty(w, data.Candidates.Count + data.Baselines.Count == 0
                ? "No candidate structures were evaluated in this run, and no baselines were given."
                : "No candidate or baseline has both a finite MACs fraction and a finite accuracy.");
        }
        else
        {
            TradeoffChart.Render(w, data);
            var drawn = data.Candidates.Count(c => TradeoffChart.IsDrawable(c.MacsFraction, c.Accuracy));
            var caption = drawn == 0
                ? "No candidate structures were evaluated in this run; the chart shows the baselines."
                : $"{Count(drawn, "candidate structure", "candidate structures")} evaluated.";
            var skipped = data.Candidates.Count - drawn + data.Baselines.Count(b => !TradeoffChart.IsDrawable(b.MacsFraction, b.Accuracy));
            if (skipped > 0) caption += $" {Count(skipped, "point", "points")} without a finite MACs fraction or accuracy left out.";
            w.Element("p", caption, new Attr("class", "caption"));
        }
        w.End();
    }

    private static void Widths(MarkupWriter w, IReadOnlyList<LayerWidth> layers)
    {
        w.Start("section", new Attr("id", "widths"));
        w.Element("h2", "Layer widths");
        if (layers.Count == 0) Empty(w, "No per-layer widths were recorded for this run.");
        else WidthsChart.Render(w, layers);
        w.End();
    }

    private static void Convergence(MarkupWriter w, IReadOnlyList<ConvergencePoint> points)
    {
        w.Start("section", new Attr("id", "convergence"));
        w.Element("h2", "Search convergence");
        if (points.Count == 0) Empty(w, "This run did not search (its strategy has no swarm), so there is no convergence to show.");
        else if (!ConvergenceChart.CanDraw(points)) Empty(w, "The search recorded no finite fitness value.");
        else ConvergenceChart.Render(w, points);
        w.End();
    }

    private static void Empty(MarkupWriter w, string message) => w.Element("p", message, new Attr("class", "empty"));

    private static string Count(int n, string singular, string plural) => $"{Markup.Fixed(n, 0)} {(n == 1 ? singular : plural)}";

    // Constant, so written as is: it holds no user data and no characters that need escaping in XML.
    private const string StyleSheet = """
      :root { color-scheme: light; }
      body { margin: 0; background: #ffffff; color: #1f2933;
        font: 15px/1.5 'DejaVu Sans', 'Liberation Sans', 'Helvetica Neue', Arial, sans-serif; }
      main { max-width: 940px; margin: 0 auto; padding: 32px 24px 40px; }
      h1 { font-size: 26px; line-height: 1.25; margin: 0 0 12px; overflow-wrap: anywhere; }
      h2 { font-size: 19px; margin: 36px 0 12px; padding-bottom: 4px; border-bottom: 1px solid #e4e7eb; }
      dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 18px; margin: 0; }
      dl.facts dt { color: #52606d; }
      dl.facts dd { margin: 0; font-weight: 600; overflow-wrap: anywhere; }
      table { border-collapse: collapse; min-width: 60%; font-variant-numeric: tabular-nums; }
      th, td { padding: 6px 16px; border-bottom: 1px solid #e4e7eb; text-align: right; }
      th[scope=row], thead th:first-child { text-align: left; font-weight: 600; }
      thead th { border-bottom: 2px solid #7b8794; color: #52606d; font-weight: 600; }
      svg.chart { display: block; max-width: 100%; height: auto; }
      .caption, .empty { color: #52606d; font-size: 13px; margin: 6px 0 0; }
      .empty { font-style: italic; font-size: 15px; }
      .note { margin: 0 0 8px; overflow-wrap: anywhere; }
      footer { margin-top: 40px; color: #7b8794; font-size: 12px; }
      @page { margin: 14mm; }
      @media print {
        main { max-width: none; padding: 0; }
        section { break-inside: avoid; }
        h2 { break-after: avoid; }
      }

""";
}
