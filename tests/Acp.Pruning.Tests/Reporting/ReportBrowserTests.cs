using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Acp.Reporting;

namespace Acp.Pruning.Tests.Reporting;

/// <summary>A scratch folder for browser artefacts; kept when ACP_KEEP_REPORT_ARTIFACTS=1, for looking at them.</summary>
public sealed class BrowserScratch : IDisposable
{
    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("acp-report-tests-").FullName;

    public void Dispose()
    {
        if (Environment.GetEnvironmentVariable("ACP_KEEP_REPORT_ARTIFACTS") != "1") System.IO.Directory.Delete(Directory, recursive: true);
    }
}

/// <summary>The report as a browser shows it: Debian's headless Chromium renders, lays out and parses it.</summary>
public class ReportBrowserTests(BrowserScratch scratch) : IClassFixture<BrowserScratch>
{
    private const int WindowWidth = 1200, WindowHeight = 2400;

    [Fact]
    public async Task PngDecoderReadsChromiumScreenshotsExactly()
    {
        // Known blocks of colour at known places, plus a gradient so the encoder uses its other filter types.
        var page = Path.Combine(scratch.Directory, "calibration.html");
        await File.WriteAllTextAsync(page, """
            <!DOCTYPE html><html><body style="margin:0;background:#fff">
            <div style="position:absolute;left:10px;top:20px;width:100px;height:50px;background:#0b5fa5"></div>
            <div style="position:absolute;left:300px;top:200px;width:40px;height:30px;background:#e07b00"></div>
            <div style="position:absolute;left:0;top:300px;width:640px;height:100px;background:linear-gradient(90deg,#000,#f0f,#0ff)"></div>
            </body></html>
            """);
        var png = Path.Combine(scratch.Directory, "calibration.png");
        var image = await HeadlessChromium.ScreenshotAsync(page, png, 640, 480);

        Assert.Equal((640, 480), (image.Width, image.Height));
        Assert.Equal(0x0b5fa5, image[10, 20]);
        Assert.Equal(0x0b5fa5, image[109, 69]);
        Assert.Equal(0xffffff, image[9, 20]);
        Assert.Equal(0xffffff, image[110, 69]);
        Assert.Equal(0xffffff, image[109, 70]);
        Assert.Equal(0xe07b00, image[320, 215]);
        Assert.Equal(0xffffff, image[500, 100]);

        // An independent decoder (Pillow, installed with torchvision by scripts/setup.sh) agrees on every byte.
        Assert.Equal(DecodeWithPillow(png), image.Rgb);
    }

    [Fact]
    public async Task ScreenshotShowsTheChartsInTheirColours()
    {
        var report = await HtmlReport.WriteAsync(ReportSamples.Acp(), Path.Combine(scratch.Directory, "acp"));
        var image = await HeadlessChromium.ScreenshotAsync(report, Path.Combine(scratch.Directory, "acp.png"), WindowWidth, WindowHeight);
        Assert.Equal((WindowWidth, WindowHeight), (image.Width, image.Height));

        var counts = new Dictionary<int, int>();
        for (var y = 0; y < image.Height; y++)
            for (var x = 0; x < image.Width; x++)
                counts[image[x, y]] = counts.GetValueOrDefault(image[x, y]) + 1;
        var total = image.Width * image.Height;
        var nonWhite = total - counts.GetValueOrDefault(0xffffff);
        Assert.True(nonWhite > total / 50, $"Only {nonWhite} of {total} pixels are not white: the page looks blank.");
        Assert.True(counts.Count > 100, $"Only {counts.Count} distinct colours: text and charts are missing.");

        // Each series colour shows as solid pixels somewhere (legend swatches, bars, the chosen marker's inside).
        foreach (var (name, colour) in new[]
                 {
                     ("best fitness / pruned width", Palette.Primary), ("mean fitness", Palette.Secondary),
                     ("original width", Palette.Original), ("chosen structure", Palette.Chosen), ("candidates", Palette.Candidate),
                     ("first baseline", Palette.Baselines[0]), ("second baseline", Palette.Baselines[1]),
                 })
        {
            var rgb = Convert.ToInt32(colour[1..], 16);
            Assert.True(counts.GetValueOrDefault(rgb) >= 20, $"The {name} colour {colour} covers {counts.GetValueOrDefault(rgb)} pixels.");
        }
        // The pruned bars dominate the widths chart: thousands of pixels, not just a legend swatch.
        var originalPixels = counts.GetValueOrDefault(Convert.ToInt32(Palette.Original[1..], 16));
        Assert.True(originalPixels > 2000, $"The original-width bars cover only {originalPixels} pixels.");
    }

    [Fact]
    public async Task ChromiumParsesTheThreeChartsAndTheirMarks()
    {
        var data = ReportSamples.Acp();
        var report = await HtmlReport.WriteAsync(data, Path.Combine(scratch.Directory, "dom"));
        var dom = await HeadlessChromium.DumpDomAsync(report);

        foreach (var id in new[] { "convergence-chart", "widths-chart", "tradeoff-chart" })
            Assert.Single(Regex.Matches(dom, $"<svg [^>]*id=\"{id}\""));
        Assert.Equal(3, Regex.Matches(dom, "<svg ").Count);
        Assert.Equal(data.Candidates.Count, Regex.Matches(dom, "<circle class=\"candidate[ \"]").Count);
        Assert.Equal(2 * data.Layers.Count, Regex.Matches(dom, "<rect class=\"bar ").Count);
        Assert.Equal(data.Summary.Count + 1, Regex.Matches(dom, "<tr>").Count);
        Assert.DoesNotContain("<script", dom, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task NoLabelIsClippedOrOverlapsAnotherInTheSample()
    {
        var layout = await MeasureAsync(ReportSamples.Acp(), "layout-acp", WindowWidth);
        AssertLayoutClean(layout);
        Assert.Equal(ReportSamples.CandidateCount, layout.GetProperty("candidates").GetInt32());
    }

    [Fact]
    public async Task EightyLayersWithLongNamesStayLegible()
    {
        var data = ReportSamples.ManyLayers(80);
        var layout = await MeasureAsync(data, "layout-many", WindowWidth);
        AssertLayoutClean(layout);
        Assert.Equal(160, layout.GetProperty("bars").GetInt32());
        // Names are shortened, never shrunk: the chart is drawn at full size and its labels at their set size.
        Assert.True(layout.GetProperty("minLayerNameHeight").GetDouble() >= 12, layout.ToString());
    }

    [Fact]
    public async Task ChartsShrinkToANarrowWindowKeepingTheirProportions()
    {
        var layout = await MeasureAsync(ReportSamples.Acp(), "layout-narrow", 640);
        Assert.True(layout.GetProperty("scrollWidth").GetDouble() <= 640, layout.ToString());
        foreach (var chart in layout.GetProperty("charts").EnumerateArray())
        {
            var width = chart.GetProperty("width").GetDouble();
            Assert.True(width < 640, chart.ToString());
            var drawnRatio = chart.GetProperty("height").GetDouble() / width;
            var designRatio = chart.GetProperty("viewBoxHeight").GetDouble() / chart.GetProperty("viewBoxWidth").GetDouble();
            Assert.InRange(drawnRatio, designRatio * 0.98, designRatio * 1.02);
        }
    }

    private static void AssertLayoutClean(JsonElement layout)
    {
        Assert.Equal(3, layout.GetProperty("charts").GetArrayLength());
        foreach (var chart in layout.GetProperty("charts").EnumerateArray())
            Assert.Equal("http://www.w3.org/2000/svg", chart.GetProperty("namespace").GetString());
        var problems = layout.GetProperty("problems").EnumerateArray().Select(p => p.GetString()).ToList();
        Assert.True(problems.Count == 0, "Layout problems:\n" + string.Join('\n', problems));
        Assert.True(layout.GetProperty("texts").GetInt32() > 50, layout.ToString());
    }

    /// <summary>
    /// Loads a copy of the report with a measuring script appended (the report itself has none) and returns what the
    /// browser measured: every chart text's box against its chart's box and against every other text of that chart.
    /// </summary>
    private async Task<JsonElement> MeasureAsync(ReportData data, string name, int windowWidth)
    {
        var html = HtmlReport.Render(data);
        var page = Path.Combine(scratch.Directory, name + ".html");
        await File.WriteAllTextAsync(page, html.Replace("</body>", MeasuringScript + "</body>", StringComparison.Ordinal));
        var dom = await HeadlessChromium.DumpDomAsync(page, windowWidth, 1000);
        var match = Regex.Match(dom, "<pre id=\"layout-result\">(.*?)</pre>", RegexOptions.Singleline);
        Assert.True(match.Success, "The measuring script left no result; the browser said:\n" + dom[..Math.Min(dom.Length, 2000)]);
        return JsonDocument.Parse(WebUtility.HtmlDecode(match.Groups[1].Value)).RootElement.Clone();
    }

    private const string MeasuringScript = """
        <script>
        (() => {
          const problems = [];
          const box = r => `[${r.left.toFixed(1)}, ${r.top.toFixed(1)}, ${r.right.toFixed(1)}, ${r.bottom.toFixed(1)}]`;
          const charts = [...document.querySelectorAll('svg')];
          let texts = 0, minLayerNameHeight = Infinity;
          for (const svg of charts) {
            const frame = svg.getBoundingClientRect();
            const boxes = [...svg.querySelectorAll('text')].filter(t => t.textContent.trim() !== '')
              .map(t => ({ text: t.textContent, rect: t.getBoundingClientRect(), layer: t.classList.contains('layer-name') }));
            texts += boxes.length;
            for (const b of boxes) {
              if (b.layer) minLayerNameHeight = Math.min(minLayerNameHeight, b.rect.height);
              if (b.rect.left < frame.left - 0.5 || b.rect.right > frame.right + 0.5 || b.rect.top < frame.top - 0.5 || b.rect.bottom > frame.bottom + 0.5)
                problems.push(`${svg.id}: "${b.text}" ${box(b.rect)} leaves the chart ${box(frame)}`);
            }
            // Text boxes include the font's line gap, so they may touch; ink overlaps by more than 2 px.
            for (let i = 0; i < boxes.length; i++)
              for (let j = i + 1; j < boxes.length; j++) {
                const a = boxes[i].rect, b = boxes[j].rect;
                const dx = Math.min(a.right, b.right) - Math.max(a.left, b.left);
                const dy = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
                if (dx > 2 && dy > 2) problems.push(`${svg.id}: "${boxes[i].text}" ${box(a)} overlaps "${boxes[j].text}" ${box(b)}`);
              }
          }
          const result = {
            problems,
            texts,
            minLayerNameHeight: isFinite(minLayerNameHeight) ? minLayerNameHeight : 0,
            scrollWidth: document.documentElement.scrollWidth,
            candidates: document.querySelectorAll('#tradeoff-chart circle.candidate').length,
            bars: document.querySelectorAll('#widths-chart rect.bar').length,
            charts: charts.map(s => ({ id: s.id, namespace: s.namespaceURI, width: s.getBoundingClientRect().width,
              height: s.getBoundingClientRect().height, viewBoxWidth: s.viewBox.baseVal.width, viewBoxHeight: s.viewBox.baseVal.height })),
          };
          const pre = document.createElement('pre');
          pre.id = 'layout-result';
          pre.textContent = JSON.stringify(result);
          document.body.appendChild(pre);
        })();
        </script>
        """;

    /// <summary>The screenshot's pixels as Pillow reads them: an oracle for <see cref="PngImage"/>.</summary>
    private static byte[] DecodeWithPillow(string png)
    {
        const string python = "/usr/bin/python3";
        if (!File.Exists(python)) throw new InvalidOperationException($"{python} is missing: run scripts/setup.sh.");
        var raw = png + ".rgb";
        var start = new ProcessStartInfo(python) { RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-c", "import sys; from PIL import Image; open(sys.argv[2], 'wb').write(Image.open(sys.argv[1]).convert('RGB').tobytes())", png, raw })
            start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var errors = process.StandardError.ReadToEnd();
        if (!process.WaitForExit(60_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("Pillow did not decode the screenshot within 60 s.");
        }
        if (process.ExitCode != 0) throw new InvalidOperationException($"Pillow failed (run scripts/setup.sh if PIL is missing):\n{errors}");
        return File.ReadAllBytes(raw);
    }
}
