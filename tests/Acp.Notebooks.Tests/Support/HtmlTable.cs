using System.Net;
using System.Text.RegularExpressions;

namespace Acp.Notebooks.Tests.Support;

/// <summary>
/// Reads the HTML form of a table the kernel displayed (<c>ToTabularDataResource()</c>): one list of cell texts per row,
/// the header first. The HTML form is read rather than the CSV one because the kernel's CSV leaves a field with a comma
/// (such as 272,186) unquoted.
/// </summary>
public static partial class HtmlTable
{
    /// <summary>The rows of the first table in <paramref name="html"/>, each cell's text with tags removed and entities decoded.</summary>
    public static List<List<string>> Parse(string html) =>
        Row().Matches(html)
            .Select(row => Cell().Matches(row.Groups[1].Value).Select(cell => WebUtility.HtmlDecode(Tag().Replace(cell.Groups[1].Value, "")).Trim()).ToList())
            .Where(cells => cells.Count > 0)
            .ToList();

    [GeneratedRegex("<tr>(.*?)</tr>", RegexOptions.Singleline)]
    private static partial Regex Row();

    [GeneratedRegex("<t[dh]>(.*?)</t[dh]>", RegexOptions.Singleline)]
    private static partial Regex Cell();

    [GeneratedRegex("<[^>]*>")]
    private static partial Regex Tag();
}
