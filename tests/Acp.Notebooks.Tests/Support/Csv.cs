using System.Text;

namespace Acp.Notebooks.Tests.Support;

/// <summary>Reads the text/csv form of a table the kernel displayed (RFC 4180: quoted fields may hold commas, quotes and line breaks).</summary>
public static class Csv
{
    /// <summary>The records of <paramref name="text"/>, each a list of fields; blank lines are skipped.</summary>
    public static List<List<string>> Parse(string text)
    {
        var records = new List<List<string>>();
        var record = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"') { field.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else field.Append(c);
            }
            else if (c == '"') quoted = true;
            else if (c == ',') { record.Add(field.ToString()); field.Clear(); }
            else if (c is '\n' or '\r')
            {
                if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n') i++;
                End();
            }
            else field.Append(c);
        }
        End();
        return records;

        void End()
        {
            record.Add(field.ToString());
            field.Clear();
            if (record.Count > 1 || record[0].Length > 0) records.Add(record);
            record = [];
        }
    }
}
