namespace Acp.MLNet;

/// <summary>The kind of values a column holds.</summary>
public enum ColumnKind
{
    /// <summary>A vector of 32-bit floats (ML.NET: <c>Vector&lt;Single&gt;</c> with known dimensions).</summary>
    SingleVector,

    /// <summary>A class index in 0..<see cref="SchemaColumn.KeyCount"/>−1 (ML.NET: <c>Key&lt;UInt32&gt;</c>).</summary>
    Key,
}

/// <summary>One column of an <see cref="ImageSchema"/>.</summary>
/// <param name="Name">The column's name.</param>
/// <param name="Kind">What it holds.</param>
/// <param name="Dimensions">For a vector: its dimensions (e.g. [1, 28, 28] for an image, [10] for scores); empty for a key.</param>
/// <param name="KeyCount">For a key: the number of classes; null for a vector.</param>
public sealed record SchemaColumn(string Name, ColumnKind Kind, IReadOnlyList<int> Dimensions, int? KeyCount = null)
{
    /// <summary>A float vector column.</summary>
    public static SchemaColumn Vector(string name, params int[] dimensions) => new(name, ColumnKind.SingleVector, dimensions);

    /// <summary>A key column over <paramref name="count"/> classes.</summary>
    public static SchemaColumn Key(string name, int count) => new(name, ColumnKind.Key, [], count);

    /// <summary>The column as ML.NET would print its type, e.g. <c>Image: Vector&lt;Single, 1, 28, 28&gt;</c>.</summary>
    public override string ToString() => Kind == ColumnKind.Key
        ? $"{Name}: Key<UInt32, 0-{KeyCount - 1}>"
        : $"{Name}: Vector<Single, {string.Join(", ", Dimensions)}>";
}

/// <summary>
/// The columns of a data view or of a transformer's output (ML.NET's <c>DataViewSchema</c>/<c>SchemaShape</c>, reduced
/// to what image classification needs): lets a pipeline be checked against a model before any data flows.
/// </summary>
public sealed class ImageSchema
{
    private readonly SchemaColumn[] _columns;

    /// <summary>A schema of <paramref name="columns"/>, whose names must be distinct.</summary>
    public ImageSchema(IEnumerable<SchemaColumn> columns)
    {
        ArgumentNullException.ThrowIfNull(columns);
        _columns = columns.ToArray();
        var duplicate = _columns.GroupBy(c => c.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new ArgumentException($"Column '{duplicate.Key}' appears more than once.", nameof(columns));
    }

    /// <summary>The columns, in order.</summary>
    public IReadOnlyList<SchemaColumn> Columns => _columns;

    /// <summary>The column called <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">There is none; the message lists the columns there are.</exception>
    public SchemaColumn this[string name] => TryGetColumn(name, out var column)
        ? column
        : throw new KeyNotFoundException($"No column '{name}'; the schema has {string.Join(", ", _columns.Select(c => c.Name))}.");

    /// <summary>Finds the column called <paramref name="name"/>.</summary>
    public bool TryGetColumn(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out SchemaColumn? column)
    {
        column = _columns.FirstOrDefault(c => c.Name == name);
        return column is not null;
    }

    /// <summary>The schema of image data: <see cref="DefaultColumnNames.Image"/> and <see cref="DefaultColumnNames.Label"/>.</summary>
    public static ImageSchema ForImages(int channels, int height, int width, int classes) => new(
    [
        SchemaColumn.Vector(DefaultColumnNames.Image, channels, height, width),
        SchemaColumn.Key(DefaultColumnNames.Label, classes),
    ]);

    /// <summary>This schema with <paramref name="added"/> appended, replacing columns of the same name (as ML.NET hides them).</summary>
    public ImageSchema With(params SchemaColumn[] added) =>
        new(_columns.Where(c => added.All(a => a.Name != c.Name)).Concat(added));

    /// <inheritdoc/>
    public override string ToString() => string.Join("; ", _columns.Select(c => c.ToString()));
}
