using System.Text;

namespace Acp.Reporting;

/// <summary>An attribute of an element; the value is escaped when written.</summary>
internal readonly record struct Attr(string Name, string Value)
{
    /// <summary>A numeric attribute written as a coordinate (two decimals at most, invariant culture).</summary>
    public Attr(string name, double value) : this(name, Markup.Coord(value)) { }
}

/// <summary>
/// Writes well-formed markup (HTML in its XML-compatible form, and inline SVG) with every text and attribute value
/// escaped, indenting nested elements so the output is readable and byte-for-byte deterministic.
/// </summary>
/// <remarks>
/// Self-closing tags are only for SVG elements and HTML void elements (<c>meta</c>): an HTML parser would read a
/// self-closed <c>div</c> as an open one.
/// </remarks>
internal sealed class MarkupWriter
{
    private readonly StringBuilder _out = new();
    private readonly Stack<string> _open = new();

    /// <summary>Opens an element; close it with <see cref="End"/>.</summary>
    public MarkupWriter Start(string name, params ReadOnlySpan<Attr> attributes)
    {
        Indent();
        WriteTag(name, attributes);
        _out.Append(">\n");
        _open.Push(name);
        return this;
    }

    /// <summary>Closes the innermost open element.</summary>
    public MarkupWriter End()
    {
        var name = _open.Pop();
        Indent();
        _out.Append("</").Append(name).Append(">\n");
        return this;
    }

    /// <summary>Writes an element holding only <paramref name="text"/> (escaped).</summary>
    public MarkupWriter Element(string name, string text, params ReadOnlySpan<Attr> attributes)
    {
        Indent();
        WriteTag(name, attributes);
        _out.Append('>').Append(Markup.Escape(text)).Append("</").Append(name).Append(">\n");
        return this;
    }

    /// <summary>Writes a self-closed element: SVG elements and HTML void elements only.</summary>
    public MarkupWriter Empty(string name, params ReadOnlySpan<Attr> attributes)
    {
        Indent();
        WriteTag(name, attributes);
        _out.Append("/>\n");
        return this;
    }

    /// <summary>Writes escaped text on its own line inside the current element.</summary>
    public MarkupWriter Text(string text)
    {
        Indent();
        _out.Append(Markup.Escape(text)).Append('\n');
        return this;
    }

    /// <summary>Writes markup the caller vouches for (constant style sheets, the doctype): never user data.</summary>
    public MarkupWriter Trusted(string markup)
    {
        _out.Append(markup);
        return this;
    }

    /// <summary>The markup written so far; every element must have been closed.</summary>
    public override string ToString()
    {
        if (_open.Count != 0) throw new InvalidOperationException($"Unclosed element <{_open.Peek()}>.");
        return _out.ToString();
    }

    private void Indent() => _out.Append(' ', 2 * _open.Count);

    private void WriteTag(string name, ReadOnlySpan<Attr> attributes)
    {
        _out.Append('<').Append(name);
        foreach (var a in attributes) _out.Append(' ').Append(a.Name).Append("=\"").Append(Markup.Escape(a.Value)).Append('"');
    }
}
