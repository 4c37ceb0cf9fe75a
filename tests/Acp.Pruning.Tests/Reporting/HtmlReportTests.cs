using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml;
using System.Xml.Linq;
using Acp.Reporting;

namespace Acp.Pruning.Tests.Reporting;

/// <summary>The report's structure, read back with an XML parser: what is drawn, where, and what is escaped.</summary>
public class HtmlReportTests
{
    private static readonly XNamespace Html = "http://www.w3.org/1999/xhtml";
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    [Fact]
    public void EveryChartIsAnAccessibleSvgWithATitle()
    {
        var document = Parse(HtmlReport.Render(ReportSamples.Acp()));
        foreach (var (id, title) in new[]
                 {
                     ("convergence-chart", "Fitness per PSO cycle"),
                     ("widths-chart", "Output channels per layer, before and after pruning"),
                     ("tradeoff-chart", "Accuracy against MACs of every evaluated structure"),
                 })
        {
            var chart = Chart(document, id);
            Assert.Equal("img", (string?)chart.Attribute("role"));
            var first = chart.Elements().First();
            Assert.Equal(Svg + "title", first.Name);
            Assert.Equal(title, first.Value);
            foreach (var labelId in ((string)chart.Attribute("aria-labelledby")!).Split(' '))
                Assert.Single(chart.Descendants(), e => (string?)e.Attribute("id") == labelId);
            Assert.Matches(@"^0 0 \d+(\.\d+)? \d+(\.\d+)?$", (string)chart.Attribute("viewBox")!);
        }
    }

    [Fact]
    public void DrawsOneMarkPerCandidateBaselineAndLayer()
    {
        var data = ReportSamples.Acp();
        var document = Parse(HtmlReport.Render(data));

        var tradeoff = Chart(document, "tradeoff-chart");
        Assert.Equal(data.Candidates.Count, tradeoff.Descendants(Svg + "circle").Count(c => HasClass(c, "candidate")));
        Assert.Single(tradeoff.Descendants(), e => HasClass(e, "best"));
        Assert.Equal(data.Baselines.Count, tradeoff.Descendants().Count(e => HasClass(e, "baseline")));
        Assert.Equal(data.Baselines.Select(b => b.Name),
            tradeoff.Descendants(Svg + "text").Where(t => HasClass(t, "point-label") && t.Value != "budget").Select(t => t.Value));

        var widths = Chart(document, "widths-chart");
        Assert.Equal(2 * data.Layers.Count, widths.Descendants(Svg + "rect").Count(r => HasClass(r, "bar")));
        Assert.Equal(data.Layers.Select(l => l.Name), widths.Descendants(Svg + "g").Where(g => HasClass(g, "layer"))
            .Select(g => g.Element(Svg + "title")!.Value.Split(':')[0]));

        var convergence = Chart(document, "convergence-chart");
        Assert.Equal(data.Convergence.Count, Series(convergence, "best").Descendants(Svg + "circle").Count());
        Assert.Equal(data.Convergence.Count, Series(convergence, "mean").Descendants(Svg + "circle").Count());

        var table = document.Descendants(Html + "table").Single();
        Assert.Equal(data.Summary.Select(r => new[] { r.Metric, r.Before, r.After }),
            table.Element(Html + "tbody")!.Elements(Html + "tr").Select(tr => tr.Elements().Select(c => c.Value).ToArray()));
    }

    [Fact]
    public void TheChosenStructureSitsWhereTheAxesSayItsValuesAre()
    {
        var document = Parse(HtmlReport.Render(ReportSamples.Acp()));
        var chart = Chart(document, "tradeoff-chart");
        var best = chart.Descendants(Svg + "circle").Single(c => HasClass(c, "best"));
        var x = AxisFromTickLabels(chart, "x-axis", "x");
        var y = AxisFromTickLabels(chart, "y-axis", "y");
        Assert.Equal(49.2, x(Number(best, "cx")), 2); // tick labels are percentages
        Assert.Equal(91.5, y(Number(best, "cy")), 2);

        var budget = chart.Descendants(Svg + "g").Single(g => HasClass(g, "target")).Element(Svg + "line")!;
        Assert.Equal(50, x(Number(budget, "x1")), 2);
    }

    [Fact]
    public void BarsAreAsLongAsTheAxisSaysTheWidthsAre()
    {
        var data = ReportSamples.Acp();
        var chart = Chart(Parse(HtmlReport.Render(data)), "widths-chart");
        var x = AxisFromTickLabels(chart, "x-axis", "x");
        var layers = chart.Descendants(Svg + "g").Where(g => HasClass(g, "layer")).ToList();
        for (var i = 0; i < data.Layers.Count; i++)
        {
            var bars = layers[i].Elements(Svg + "rect").ToList();
            var original = bars.Single(b => HasClass(b, "original"));
            var pruned = bars.Single(b => HasClass(b, "pruned"));
            Assert.Equal(0, x(Number(original, "x")), 2);
            Assert.Equal(data.Layers[i].OriginalWidth, x(Number(original, "x") + Number(original, "width")), 1);
            Assert.Equal(data.Layers[i].PrunedWidth, x(Number(pruned, "x") + Number(pruned, "width")), 1);
            Assert.True(Number(pruned, "y") > Number(original, "y"), "the pruned bar goes under the original one");
        }
        // Rows go down the page in model order.
        var rowTops = layers.Select(g => Number(g.Elements(Svg + "rect").First(), "y")).ToList();
        Assert.Equal(rowTops.Order(), rowTops);
    }

    [Fact]
    public void FitnessLinesPassThroughTheRecordedValuesAndBreakAtGaps()
    {
        var points = new List<ConvergencePoint>
        {
            new(0, 0.80, 0.70), new(1, 0.82, double.NaN), new(2, 0.85, 0.78), new(3, double.NegativeInfinity, 0.79), new(4, 0.90, 0.81),
        };
        var chart = Chart(Parse(HtmlReport.Render(new ReportData { Convergence = points })), "convergence-chart");
        var x = AxisFromTickLabels(chart, "x-axis", "x");
        var y = AxisFromTickLabels(chart, "y-axis", "y");

        foreach (var (name, value) in new[] { ("best", (Func<ConvergencePoint, double>)(p => p.BestFitness)), ("mean", p => p.MeanFitness) })
        {
            var d = (string)Series(chart, name).Element(Svg + "path")!.Attribute("d")!;
            var vertices = Regex.Matches(d, @"[ML](-?[\d.]+) (-?[\d.]+)")
                .Select(m => (Cycle: x(double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)),
                    Fitness: y(double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture))))
                .ToList();
            var finite = points.Where(p => double.IsFinite(value(p))).ToList();
            Assert.Equal(finite.Count, vertices.Count);
            for (var i = 0; i < finite.Count; i++)
            {
                Assert.Equal(finite[i].Cycle, vertices[i].Cycle, 2);
                Assert.Equal(value(finite[i]), vertices[i].Fitness, 4);
            }
            Assert.Equal(2, d.Count(c => c == 'M')); // one missing value splits each line in two
        }
    }

    [Fact]
    public void UserTextIsEscapedEverywhere()
    {
        const string script = "<script>alert(\"pwned\")</script>";
        const string image = "\"><img src=x onerror=alert(1)>";
        var data = ReportSamples.Acp(modelName: script) with
        {
            Title = "Report & <i>co</i>",
            Strategy = image,
            TargetDescription = "≤ 50% 'MACs'",
            Summary = [new ReportRow("<th>", "1 < 2", "3 > 2 && true")],
            Layers = [new LayerWidth(script, 64, 32)],
            Baselines = [new BaselinePoint(image, 0.5, 0.9)],
            Notes = [script],
        };
        var html = HtmlReport.Render(data);

        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<img", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<i>", html, StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;", html, StringComparison.Ordinal);

        // The parser gives the user's text back unchanged wherever it went.
        var document = Parse(html);
        Assert.Equal("Report & <i>co</i>", document.Descendants(Html + "h1").Single().Value);
        Assert.Equal("Report & <i>co</i>: " + script, document.Descendants(Html + "title").Single().Value);
        Assert.Equal([script, image, "≤ 50% 'MACs'"], document.Descendants(Html + "dd").Select(e => e.Value));
        Assert.Equal(["<th>", "1 < 2", "3 > 2 && true"], document.Descendants(Html + "tbody").Single().Descendants(Html + "tr").Single().Elements().Select(e => e.Value));
        Assert.Equal(script, Chart(document, "widths-chart").Descendants(Svg + "text").Single(t => HasClass(t, "layer-name")).Value);
        Assert.Contains(Chart(document, "tradeoff-chart").Descendants(Svg + "title"), t => t.Value.StartsWith(image + ":", StringComparison.Ordinal));
        Assert.Equal(script, document.Descendants(Html + "p").Single(p => HasClass(p, "note")).Value);
        Assert.DoesNotContain(document.Descendants(), e => e.Name.LocalName is "script" or "img" or "i");
        Assert.All(document.Descendants(Html + "th"), th => Assert.Equal(Html + "tr", th.Parent!.Name));
    }

    [Fact]
    public void ControlCharactersInNamesKeepTheReportWellFormed()
    {
        var data = new ReportData { ModelName = "model\0\u0001\u001b[31m\uD800.onnx", Layers = [new LayerWidth("conv\u0007", 8, 4)] };
        var document = Parse(HtmlReport.Render(data));
        Assert.Equal("model\uFFFD\uFFFD\uFFFD[31m\uFFFD.onnx", document.Descendants(Html + "dd").First().Value);
    }

    [Fact]
    public void NeedsNothingFromOutsideTheFile()
    {
        var html = HtmlReport.Render(ReportSamples.Acp());
        var document = Parse(html);
        Assert.DoesNotContain(document.Descendants(), e => e.Name.LocalName is "script" or "link" or "img" or "iframe" or "object" or "embed" or "image" or "use");
        Assert.DoesNotContain(document.Descendants().Attributes(), a => a.Name.LocalName is "src" or "href" or "srcset" || a.Name.LocalName.StartsWith("on", StringComparison.Ordinal));
        var style = document.Descendants(Html + "style").Single().Value;
        Assert.DoesNotContain("url(", style, StringComparison.Ordinal);
        Assert.DoesNotContain("@import", style, StringComparison.Ordinal);
        // The only addresses are the two namespace names, which are never fetched.
        Assert.Equal(["http://www.w3.org/1999/xhtml", "http://www.w3.org/2000/svg"],
            Regex.Matches(html, @"\w+://[^""\s]*").Select(m => m.Value).Distinct().Order());
    }

    [Fact]
    public void EmptySectionsSaySoInsteadOfDrawing()
    {
        var document = Parse(HtmlReport.Render(new ReportData()));
        Assert.Empty(document.Descendants(Svg + "svg"));
        Assert.Empty(document.Descendants(Html + "table"));
        foreach (var section in new[] { "summary", "tradeoff", "widths", "convergence" })
            Assert.Single(Section(document, section).Elements(Html + "p"), p => HasClass(p, "empty"));
        Assert.DoesNotContain(document.Descendants(Html + "section"), s => (string?)s.Attribute("id") == "notes");
        Assert.Contains("did not search", Section(document, "convergence").Value);
    }

    [Fact]
    public void AnL1RunShowsItsWidthsButNoSearch()
    {
        var document = Parse(HtmlReport.Render(ReportSamples.L1Only()));
        Assert.Equal(["widths-chart"], document.Descendants(Svg + "svg").Select(s => (string)s.Attribute("id")!));
        Assert.Single(Section(document, "convergence").Elements(Html + "p"), p => HasClass(p, "empty"));
        Assert.Single(Section(document, "tradeoff").Elements(Html + "p"), p => HasClass(p, "empty"));
    }

    [Fact]
    public void PointsThatCannotBePlacedAreLeftOutAndCounted()
    {
        var data = new ReportData
        {
            Candidates = [new(0.4, 0.9), new(double.NaN, 0.9), new(0.45, double.PositiveInfinity), new(0.5, 0.91, true)],
            Baselines = [new("l1-norm", 0.5, double.NaN)],
        };
        var document = Parse(HtmlReport.Render(data));
        Assert.Equal(2, Chart(document, "tradeoff-chart").Descendants(Svg + "circle").Count(c => HasClass(c, "candidate")));
        Assert.DoesNotContain(Chart(document, "tradeoff-chart").Descendants(), e => HasClass(e, "baseline"));
        Assert.Equal("2 candidate structures evaluated. 3 points without a finite MACs fraction or accuracy left out.",
            Section(document, "tradeoff").Elements(Html + "p").Single(p => HasClass(p, "caption")).Value);

        var noFitness = new ReportData { Convergence = [new(0, double.NaN, double.NaN), new(1, double.NegativeInfinity, double.NaN)] };
        var convergence = Section(Parse(HtmlReport.Render(noFitness)), "convergence");
        Assert.Empty(convergence.Descendants(Svg + "svg"));
        Assert.Contains("no finite fitness", convergence.Value);
    }

    [Fact]
    public void BaselinesAloneStillGetAChart()
    {
        var data = new ReportData { Baselines = [new("l1-norm", 0.5, 0.88), new("random", 0.5, 0.85)], TargetFlopsFraction = 0.5 };
        var document = Parse(HtmlReport.Render(data));
        var chart = Chart(document, "tradeoff-chart");
        Assert.Equal(2, chart.Descendants().Count(e => HasClass(e, "baseline")));
        Assert.DoesNotContain(chart.Descendants(Svg + "circle"), c => HasClass(c, "candidate"));
        Assert.DoesNotContain(chart.Descendants(Svg + "text"), t => t.Value is "Evaluated candidate" or "Chosen structure");
    }

    [Fact]
    public void OutputIsTheSameWhateverTheCurrentCulture()
    {
        var data = ReportSamples.Acp();
        var invariant = HtmlReport.Render(data);
        var previous = CultureInfo.CurrentCulture;
        try
        {
            // A culture that writes 1.234,5 and a typographic minus: any culture-dependent formatting shows up.
            var culture = (CultureInfo)CultureInfo.InvariantCulture.Clone();
            culture.NumberFormat.NumberDecimalSeparator = ",";
            culture.NumberFormat.NumberGroupSeparator = ".";
            culture.NumberFormat.PercentDecimalSeparator = ",";
            culture.NumberFormat.NegativeSign = "\u2212";
            CultureInfo.CurrentCulture = culture;
            Assert.Equal("1,5", 1.5.ToString(CultureInfo.CurrentCulture)); // the culture really is in force
            Assert.Equal(invariant, HtmlReport.Render(data));
        }
        finally
        {
            CultureInfo.CurrentCulture = previous;
        }
    }

    [Fact]
    public async Task WritesReportHtmlAtomicallyIntoANewDirectory()
    {
        var root = Directory.CreateTempSubdirectory("acp-report-write-").FullName;
        try
        {
            var directory = Path.Combine(root, "runs", "first");
            var data = ReportSamples.Acp();
            var path = await HtmlReport.WriteAsync(data, directory);
            Assert.Equal(Path.Combine(directory, "report.html"), path);
            var bytes = await File.ReadAllBytesAsync(path);
            Assert.NotEqual(0xEF, bytes[0]); // no byte-order mark
            Assert.Equal(HtmlReport.Render(data), Encoding.UTF8.GetString(bytes));

            // A second report replaces the first and leaves no temporary file behind.
            var l1 = ReportSamples.L1Only();
            Assert.Equal(path, await HtmlReport.WriteAsync(l1, directory));
            Assert.Equal(HtmlReport.Render(l1), await File.ReadAllTextAsync(path));
            Assert.Equal(["report.html"], Directory.GetFiles(directory).Select(Path.GetFileName));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task ACancelledWriteLeavesNothing()
    {
        var root = Directory.CreateTempSubdirectory("acp-report-cancel-").FullName;
        try
        {
            using var cancelled = new CancellationTokenSource();
            await cancelled.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => HtmlReport.WriteAsync(ReportSamples.Acp(), root, cancelled.Token));
            Assert.Empty(Directory.GetFileSystemEntries(root));
            await Assert.ThrowsAsync<ArgumentException>(() => HtmlReport.WriteAsync(ReportSamples.Acp(), " "));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static XDocument Parse(string html)
    {
        // The report is written to be well-formed XML as well as HTML; the doctype carries no DTD to read.
        using var reader = XmlReader.Create(new StringReader(html), new XmlReaderSettings { DtdProcessing = DtdProcessing.Ignore });
        return XDocument.Load(reader);
    }

    private static XElement Chart(XDocument document, string id) =>
        document.Descendants(Svg + "svg").Single(e => (string?)e.Attribute("id") == id);

    private static XElement Section(XDocument document, string id) =>
        document.Descendants(Html + "section").Single(e => (string?)e.Attribute("id") == id);

    private static XElement Series(XElement chart, string name) =>
        chart.Descendants(Svg + "g").Single(g => HasClass(g, "series") && HasClass(g, name));

    private static bool HasClass(XElement e, string name) => ((string?)e.Attribute("class") ?? "").Split(' ').Contains(name);

    private static double Number(XElement e, string attribute) =>
        double.Parse((string)e.Attribute(attribute)!, CultureInfo.InvariantCulture);

    /// <summary>
    /// The data value at a pixel position, read off an axis the way a person would: from its first and last tick
    /// labels and where they are drawn.
    /// </summary>
    private static Func<double, double> AxisFromTickLabels(XElement chart, string axisClass, string coordinate)
    {
        var ticks = chart.Descendants(Svg + "g").First(g => HasClass(g, axisClass) && !HasClass(g, "top"))
            .Elements(Svg + "text").Where(t => HasClass(t, "tick"))
            .Select(t => (Value: double.Parse(t.Value.TrimEnd('%').Replace(",", ""), CultureInfo.InvariantCulture), Position: Number(t, coordinate)))
            .ToList();
        Assert.True(ticks.Count >= 2);
        var (first, last) = (ticks[0], ticks[^1]);
        return position => first.Value + (position - first.Position) * (last.Value - first.Value) / (last.Position - first.Position);
    }
}
