namespace Acp.Onnx.Ir;

/// <summary>
/// One dimension of a declared tensor shape: a fixed size, a symbolic name such as "batch", or unknown.
/// </summary>
public readonly record struct Dimension(long? Value, string? Param)
{
    /// <summary>A dimension of fixed size.</summary>
    public static Dimension Fixed(long value) => new(value, null);

    /// <summary>A dimension named by a symbol (dim_param).</summary>
    public static Dimension Symbolic(string name) => new(null, name);

    /// <summary>A dimension with neither a value nor a name.</summary>
    public static Dimension Unknown => default;

    /// <inheritdoc/>
    public override string ToString() => Value?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? Param ?? "?";
}
