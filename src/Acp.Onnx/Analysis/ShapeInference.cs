using Acp.Onnx.Ir;

namespace Acp.Onnx.Analysis;

/// <summary>
/// Infers a concrete shape for every value of a CNN-style graph it can, folding the small integer shape
/// computations exporters emit (Shape → Gather → Unsqueeze → Concat → Reshape and the like) along the way.
/// It never throws on odd models: unknown operators and inconsistent shapes become <see cref="ShapeDiagnostic"/>s,
/// and the values that depend on them stay unknown.
/// </summary>
public static class ShapeInference
{
    /// <summary>Runs shape inference.</summary>
    /// <param name="model">The model; it is not changed.</param>
    /// <param name="inputShapes">
    /// Concrete shapes for graph inputs by name, replacing the declared ones (e.g. to choose a batch size).
    /// </param>
    /// <param name="symbolicDimValue">The value of every symbolic or unknown dimension of a declared input shape (e.g. batch = 1).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="symbolicDimValue"/> is less than 1.</exception>
    public static ShapeInferenceResult Run(OnnxModel model, IReadOnlyDictionary<string, long[]>? inputShapes = null, long symbolicDimValue = 1)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfLessThan(symbolicDimValue, 1);
        var seeds = InputSeeds.Resolve(model.Graph, inputShapes, symbolicDimValue);
        var main = ShapePropagation.Run(model, seeds.Shapes);
        // A second walk with other values for the symbolic dimensions tells which results depend on them.
        var probe = seeds.Symbols.Count > 0 ? ShapePropagation.Run(model, seeds.ProbeShapes) : null;
        var symbolic = SymbolicDimensions.Recover(main.State.Shapes, probe?.State.Shapes, seeds.Symbols, symbolicDimValue);
        return new ShapeInferenceResult(main.State.Shapes, main.State.Types, main.State.Folded, symbolic, [.. seeds.Diagnostics, .. main.Diagnostics]);
    }
}
