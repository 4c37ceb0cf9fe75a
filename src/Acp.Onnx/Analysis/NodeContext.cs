using Acp.Onnx.Ir;

namespace Acp.Onnx.Analysis;

/// <summary>
/// A shape rule's view of one node: its input shapes, types and constant contents, its attributes, and the outputs
/// the rule produces. Outputs are held back until the rule finishes, so a rule that fails part-way leaves none.
/// </summary>
internal sealed class NodeContext(Node node, InferenceState state)
{
    private readonly List<(int Index, long[] Shape, ElementType? Type, OnnxTensor? Value)> _outputs = [];

    /// <summary>The node.</summary>
    public Node Node { get; } = node;

    /// <summary>The standard opset version.</summary>
    public long Opset => state.Opset;

    /// <summary>True when input <paramref name="index"/> is present (not left out).</summary>
    public bool Has(int index) => Node.InputAt(index) is not null;

    /// <summary>The shape of input <paramref name="index"/>. The walk only runs a rule once every present input's shape is known.</summary>
    public long[] Shape(int index) =>
        Node.InputAt(index) is { } name && state.Shapes.TryGetValue(name, out var shape)
            ? shape
            : throw new ShapeRuleException($"needs input {index}, which is missing");

    /// <summary>The element type of input <paramref name="index"/>, or null when unknown.</summary>
    public ElementType? TypeOf(int index) => Node.InputAt(index) is { } name && state.Types.TryGetValue(name, out var t) ? t : null;

    /// <summary>The contents of input <paramref name="index"/> when known and small, else null.</summary>
    public OnnxTensor? Constant(int index) => Node.InputAt(index) is { } name ? state.Constant(name) : null;

    /// <summary>The integer contents of input <paramref name="index"/>, which the operator needs to know the output shape.</summary>
    /// <param name="index">The input.</param>
    /// <param name="role">What the input is, for the diagnostic (e.g. "target shape").</param>
    public long[] Ints(int index, string role) => Constant(index) switch
    {
        { IsInteger: true } t => t.Int64s,
        null => throw new ShapeRuleException($"the {role} (input '{Node.Inputs[index]}') is computed at run time and could not be folded to a constant"),
        _ => throw new ShapeRuleException($"the {role} (input '{Node.Inputs[index]}') is not an integer tensor"),
    };

    /// <summary>The float contents of input <paramref name="index"/> (integers are converted), which the operator needs.</summary>
    public float[] Floats(int index, string role) => Constant(index) switch
    {
        { IsFloat: true } t => t.Floats,
        { IsInteger: true } t => Array.ConvertAll(t.Int64s, v => (float)v),
        _ => throw new ShapeRuleException($"the {role} (input '{Node.Inputs[index]}') is computed at run time and could not be folded to a constant"),
    };

    /// <summary>An INTS attribute, or null when absent.</summary>
    public long[]? IntsAttribute(string name) => Node.GetInts(name);

    /// <summary>
    /// An INTS attribute that must have <paramref name="count"/> entries, or <paramref name="fallback"/> repeated when absent.
    /// </summary>
    public long[] IntsAttribute(string name, int count, long fallback)
    {
        var values = Node.GetInts(name);
        if (values is null) return Enumerable.Repeat(fallback, count).ToArray();
        if (values.Length != count)
        {
            throw new ShapeRuleException($"attribute {name} has {values.Length} values {ShapeMath.Format(values)}; {count} expected");
        }
        return values;
    }

    /// <summary>
    /// Records output <paramref name="index"/>. The type defaults to input 0's; <paramref name="value"/> is kept
    /// only when small enough to fold.
    /// </summary>
    public void Output(int index, long[] shape, ElementType? type = null, OnnxTensor? value = null)
    {
        if (shape.Any(d => d < 0))
        {
            throw new ShapeRuleException($"output {index} would have the negative shape {ShapeMath.Format(shape)}");
        }
        if (index < Node.Outputs.Count && Node.Outputs[index].Length > 0)
        {
            _outputs.Add((index, shape, type ?? TypeOf(0), value is not null && value.ElementCount <= Folding.MaxElements ? value : null));
        }
    }

    /// <summary>Stores the outputs the rule produced; the names of outputs left unknown.</summary>
    public IReadOnlyList<string> Commit()
    {
        foreach (var (index, shape, type, value) in _outputs)
        {
            var name = Node.Outputs[index];
            state.Shapes[name] = shape;
            if (type is { } t) state.Types[name] = t;
            if (value is not null) state.Folded[name] = value.WithName(name);
        }
        return Node.Outputs.Where((name, i) => name.Length > 0 && !_outputs.Any(o => o.Index == i)).ToList();
    }
}
