using Acp.Onnx.Ir;

namespace Acp.Onnx.Tests.Analysis;

/// <summary>Builds small models in the IR for shape and cost tests; weights are zeros of the requested shape.</summary>
internal sealed class GraphBuilder(long opset = 13)
{
    private readonly Graph _graph = new() { Name = "test" };
    private int _next;

    /// <summary>A float graph input with fixed dimensions.</summary>
    public string Input(string name, params long[] dims) => Input(name, dims.Select(Dimension.Fixed).ToArray());

    /// <summary>A float graph input with any dimensions (symbolic ones included).</summary>
    public string Input(string name, Dimension[] dims)
    {
        _graph.Inputs.Add(new ValueInfo(name, ElementType.Float, dims));
        return name;
    }

    /// <summary>A float initializer of zeros.</summary>
    public string Weight(string name, params long[] dims)
    {
        _graph.Initializers.Add(OnnxTensor.FromFloats(name, dims, new float[OnnxTensor.CountElements(dims)!.Value]));
        return name;
    }

    /// <summary>A float initializer with the given values.</summary>
    public string Floats(string name, long[] dims, params float[] values)
    {
        _graph.Initializers.Add(OnnxTensor.FromFloats(name, dims, values));
        return name;
    }

    /// <summary>A 1-D int64 initializer.</summary>
    public string Ints(string name, params long[] values)
    {
        _graph.Initializers.Add(OnnxTensor.FromInt64s(name, [values.Length], values));
        return name;
    }

    /// <summary>A node with one output, named after the op; returns the output name.</summary>
    public string Add(string op, string[] inputs, params NodeAttribute[] attributes) => AddMany(op, inputs, 1, attributes)[0];

    /// <summary>A node with <paramref name="outputs"/> outputs; returns their names.</summary>
    public string[] AddMany(string op, string[] inputs, int outputs, params NodeAttribute[] attributes)
    {
        var id = _next++;
        var names = Enumerable.Range(0, outputs).Select(i => $"{op.ToLowerInvariant()}{id}_{i}").ToArray();
        _graph.Nodes.Add(new Node($"{op}_{id}", op, inputs, names, attributes));
        return names;
    }

    /// <summary>A Constant node holding an int64 tensor.</summary>
    public string ConstantInts(long[] dims, params long[] values) =>
        Add("Constant", [], NodeAttribute.FromTensor("value", OnnxTensor.FromInt64s("", dims, values)));

    /// <summary>The model, with the given values as (undeclared) graph outputs.</summary>
    public OnnxModel Build(params string[] outputs)
    {
        foreach (var output in outputs) _graph.Outputs.Add(new ValueInfo(output, ElementType.Float, null));
        var model = new OnnxModel(_graph);
        model.OpsetImports.Add(new OpsetImport("", opset));
        return model;
    }

    public static NodeAttribute IntAttr(string name, long value) => NodeAttribute.FromInt(name, value);

    public static NodeAttribute IntsAttr(string name, params long[] values) => NodeAttribute.FromInts(name, values);

    public static NodeAttribute StrAttr(string name, string value) => NodeAttribute.FromString(name, value);
}
