using System.Xml.Linq;
using Acp.Reporting;

namespace Acp.Pruning.Tests.Reporting;

public class MarkupTests
{
    [Fact]
    public void EscapesEveryCharacterThatCouldOpenMarkup() =>
        Assert.Equal("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;",
            Markup.Escape("<script>alert(\"x\")</script> & 'y'"));

    [Theory]
    [InlineData("plain name", "plain name")]
    [InlineData("tab\tand\nnewline", "tab\tand\nnewline")]
    [InlineData("emoji \U0001F600 kept", "emoji \U0001F600 kept")]
    [InlineData("≤ 50% of the MACs", "≤ 50% of the MACs")]
    public void KeepsTextThatXmlAllows(string text, string expected) => Assert.Equal(expected, Markup.Escape(text));

    [Fact]
    public void ReplacesCharactersThatXmlForbids()
    {
        // Kept out of InlineData: the test runner's own serialisation would choke on them first.
        Assert.Equal("nul\uFFFDbell\uFFFDc1\uFFFD", Markup.Escape("nul\0bell\u0007c1\u0085"));
        Assert.Equal("lone \uFFFD surrogate \uFFFD", Markup.Escape("lone \uD800 surrogate \uDC00"));
    }

    [Fact]
    public void EscapedTextReadsBackAsTheOriginalInAnXmlParser()
    {
        const string hostile = "<b>\"quoted\" & 'single'</b>]]>--><!--";
        var element = XElement.Parse($"<p title=\"{Markup.Escape(hostile)}\" other='{Markup.Escape(hostile)}'>{Markup.Escape(hostile)}</p>");
        Assert.Equal(hostile, element.Value);
        Assert.Equal(hostile, element.Attribute("title")!.Value);
        Assert.Equal(hostile, element.Attribute("other")!.Value);
    }

    [Theory]
    [InlineData(12.3456, "12.35")]
    [InlineData(1_000_000, "1000000")]
    [InlineData(-0.001, "0")]
    [InlineData(-2.5, "-2.5")]
    [InlineData(3, "3")]
    public void CoordinatesUseTwoDecimalsAtMostAndNoSeparators(double value, string expected) => Assert.Equal(expected, Markup.Coord(value));

    [Theory]
    [InlineData(1234567.891, 2, "1,234,567.89")]
    [InlineData(0.5, 0, "1")]
    [InlineData(-0.0001, 2, "0.00")]
    [InlineData(0.84, 2, "0.84")]
    [InlineData(42, 0, "42")]
    public void FixedNumbersAreInvariant(double value, int decimals, string expected) => Assert.Equal(expected, Markup.Fixed(value, decimals));

    [Fact]
    public void LongNamesKeepTheirEnds()
    {
        const string name = "/features/stage3/block12/bottleneck/expand_conv_44/Conv";
        var shortened = Markup.Ellipsize(name, 30);
        Assert.Equal(30, shortened.Length);
        Assert.Contains('…', shortened);
        Assert.StartsWith("/features", shortened);
        Assert.EndsWith("expand_conv_44/Conv", shortened);
        Assert.Equal("/conv1/Conv", Markup.Ellipsize("/conv1/Conv", 30));
    }

    [Fact]
    public void WriterNestsAndClosesElements()
    {
        var w = new MarkupWriter();
        w.Start("g", new Attr("class", "a\"b"), new Attr("x", 1.0 / 3));
        w.Empty("rect", new Attr("width", 2));
        w.Element("text", "1 < 2");
        w.End();
        var parsed = XElement.Parse(w.ToString());
        Assert.Equal("a\"b", parsed.Attribute("class")!.Value);
        Assert.Equal("0.33", parsed.Attribute("x")!.Value);
        Assert.Equal(["rect", "text"], parsed.Elements().Select(e => e.Name.LocalName));
        Assert.Equal("1 < 2", parsed.Element("text")!.Value);

        var unclosed = new MarkupWriter();
        unclosed.Start("svg");
        Assert.Throws<InvalidOperationException>(() => unclosed.ToString());
    }
}
