using Acp.Onnx.Ir;

namespace Acp.Onnx.Analysis;

/// <summary>
/// The concrete shapes graph inputs start from: the caller's overrides, else the declared shapes with every
/// symbolic or unknown dimension set to the chosen value. A second "probe" set gives each symbolic dimension a
/// distinct other value, so that comparing the two walks reveals which inferred dimensions follow which symbol.
/// </summary>
internal sealed class InputSeeds
{
    private InputSeeds()
    {
    }

    /// <summary>Input shapes for the main walk.</summary>
    public Dictionary<string, long[]> Shapes { get; } = new(StringComparer.Ordinal);

    /// <summary>Input shapes for the probe walk.</summary>
    public Dictionary<string, long[]> ProbeShapes { get; } = new(StringComparer.Ordinal);

    /// <summary>The probe value of every symbolic input dimension, mapped to its name (null for a dimension without one).</summary>
    public Dictionary<long, string?> Symbols { get; } = [];

    /// <summary>Problems with the inputs: no declared shape, bad overrides.</summary>
    public List<ShapeDiagnostic> Diagnostics { get; } = [];

    public static InputSeeds Resolve(Graph graph, IReadOnlyDictionary<string, long[]>? overrides, long symbolicValue)
    {
        var seeds = new InputSeeds();
        var runtimeInputs = graph.RuntimeInputs.ToList();
        foreach (var name in overrides?.Keys ?? [])
        {
            if (!runtimeInputs.Any(i => i.Name == name))
            {
                seeds.Diagnostics.Add(new(null, $"a shape was given for '{name}', which is not a graph input fed at run time; it is ignored"));
            }
        }
        var probeBySymbol = new Dictionary<string, long>(StringComparer.Ordinal);
        long NewSymbol(string? name)
        {
            var probe = symbolicValue + 1 + seeds.Symbols.Count;
            seeds.Symbols[probe] = name;
            return probe;
        }
        foreach (var input in runtimeInputs)
        {
            if (overrides is not null && overrides.TryGetValue(input.Name, out var given))
            {
                if (given.All(d => d >= 0))
                {
                    seeds.Shapes[input.Name] = (long[])given.Clone();
                    seeds.ProbeShapes[input.Name] = (long[])given.Clone();
                    continue;
                }
                seeds.Diagnostics.Add(new(null, $"the shape {ShapeMath.Format(given)} given for input '{input.Name}' has a negative dimension; the declared shape is used"));
            }
            if (input.Shape is null)
            {
                seeds.Diagnostics.Add(new(null, $"graph input '{input.Name}' declares no shape; pass one in inputShapes"));
                continue;
            }
            var main = new long[input.Shape.Length];
            var probe = new long[input.Shape.Length];
            for (var i = 0; i < main.Length; i++)
            {
                var dim = input.Shape[i];
                if (dim.Value is >= 0 and var value)
                {
                    main[i] = probe[i] = value;
                    continue;
                }
                main[i] = symbolicValue;
                probe[i] = dim.Param is { } symbol
                    ? probeBySymbol.TryGetValue(symbol, out var known) ? known : probeBySymbol[symbol] = NewSymbol(symbol)
                    : NewSymbol(null);
            }
            seeds.Shapes[input.Name] = main;
            seeds.ProbeShapes[input.Name] = probe;
        }
        return seeds;
    }
}
