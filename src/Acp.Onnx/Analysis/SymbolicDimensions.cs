using Acp.Onnx.Ir;

namespace Acp.Onnx.Analysis;

/// <summary>
/// Turns concrete inferred shapes back into declarable ones by comparing the main walk with the probe walk, in
/// which every symbolic input dimension had a distinct other value.
/// </summary>
internal static class SymbolicDimensions
{
    /// <summary>
    /// Dimensions equal in both walks are fixed. One that was the symbolic value in the main walk and a symbol's
    /// probe value in the probe walk is that symbol (e.g. "batch"); any other that differs (batch × 2, say) is
    /// unknown. Values the probe could not infer, or inferred with another rank, are left out.
    /// </summary>
    public static Dictionary<string, Dimension[]> Recover(
        IReadOnlyDictionary<string, long[]> main, IReadOnlyDictionary<string, long[]>? probe,
        IReadOnlyDictionary<long, string?> symbols, long symbolicValue)
    {
        var result = new Dictionary<string, Dimension[]>(StringComparer.Ordinal);
        foreach (var (name, shape) in main)
        {
            if (probe is null)
            {
                result[name] = Array.ConvertAll(shape, Dimension.Fixed);
                continue;
            }
            if (!probe.TryGetValue(name, out var other) || other.Length != shape.Length) continue;
            result[name] = shape.Select((d, i) =>
                d == other[i] ? Dimension.Fixed(d)
                : d == symbolicValue && symbols.GetValueOrDefault(other[i]) is { } symbol ? Dimension.Symbolic(symbol)
                : Dimension.Unknown).ToArray();
        }
        return result;
    }
}
