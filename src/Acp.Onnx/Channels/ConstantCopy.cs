namespace Acp.Onnx.Channels;

/// <summary>A constant surgery copied instead of changing, because a reader outside the pruned groups needs the original.</summary>
/// <param name="Source">The original initializer or Constant node output.</param>
/// <param name="Copy">The new initializer the pruned readers read.</param>
public sealed record ConstantCopy(string Source, string Copy)
{
    /// <summary><c>source → copy</c>.</summary>
    public override string ToString() => $"{Source} → {Copy}";
}
