using System.Globalization;
using System.Text;

namespace Acp.Reporting;

/// <summary>Escaping and number formatting shared by the HTML and SVG writers.</summary>
internal static class Markup
{
    /// <summary>
    /// Escapes text for use in element content and in double- or single-quoted attribute values. Characters that
    /// XML forbids (control characters, lone surrogates) become U+FFFD, so the report stays well-formed whatever a
    /// user put in a model name.
    /// </summary>
    public static string Escape(string? text)
    {
        if (string.IsNullOrEmpty(text)) return "";
        var sb = new StringBuilder(text.Length + 16);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            switch (c)
            {
                case '&': sb.Append("&amp;"); break;
                case '<': sb.Append("&lt;"); break;
                case '>': sb.Append("&gt;"); break;
                case '"': sb.Append("&quot;"); break;
                case '\'': sb.Append("&#39;"); break;
                default:
                    if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                    {
                        sb.Append(c).Append(text[++i]);
                    }
                    else if (char.IsSurrogate(c) || !IsXmlChar(c))
                    {
                        sb.Append('\uFFFD');
                    }
                    else
                    {
                        sb.Append(c);
                    }
                    break;
            }
        }
        return sb.ToString();
    }

    private static bool IsXmlChar(char c) =>
        c is '\t' or '\n' or '\r' || (c >= ' ' && c != '\uFFFE' && c != '\uFFFF' && !(c is >= '\u007F' and <= '\u009F'));

    /// <summary>A coordinate: at most two decimals, invariant culture, no "-0".</summary>
    public static string Coord(double value)
    {
        var rounded = Math.Round(value, 2, MidpointRounding.AwayFromZero);
        if (rounded == 0) rounded = 0; // folds -0 into 0
        return rounded.ToString("0.##", CultureInfo.InvariantCulture);
    }

    /// <summary>A number with a fixed count of decimals, invariant culture, thousands separated by commas.</summary>
    public static string Fixed(double value, int decimals)
    {
        var rounded = Math.Round(value, decimals, MidpointRounding.AwayFromZero);
        if (rounded == 0) rounded = 0;
        var format = decimals <= 0 ? "#,0" : "#,0." + new string('0', decimals);
        return rounded.ToString(format, CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Shortens <paramref name="text"/> to at most <paramref name="maxLength"/> characters by cutting the middle,
    /// keeping more of the end: layer names tell layers apart at their ends ("…/block3/conv2/Conv").
    /// </summary>
    public static string Ellipsize(string text, int maxLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 3);
        if (text.Length <= maxLength) return text;
        var head = (maxLength - 1) / 3;
        var tail = maxLength - 1 - head;
        return string.Concat(text.AsSpan(0, head), "…", text.AsSpan(text.Length - tail));
    }
}
