using Acp.Onnx.Ir;

namespace Acp.Onnx.Tests.Channels;

/// <summary>Builds small float models in the IR: input [batch,3,8,8], seeded random weights, one output.</summary>
public sealed class ChannelModelBuilder(string name, int seed, long opset = 13, long? batch = null)
{
    private readonly Graph _graph = new() { Name = name };
    private readonly Random _random = new(seed);
    private readonly Dictionary<string, int> _counts = [];

    /// <summary>The graph input's name.</summary>
    public string Input
    {
        get
        {
            if (_graph.Inputs.Count == 0)
            {
                var first = batch is { } n ? Dimension.Fixed(n) : Dimension.Symbolic("batch");
                _graph.Inputs.Add(new ValueInfo("input", ElementType.Float, [first, Dimension.Fixed(3), Dimension.Fixed(8), Dimension.Fixed(8)]));
            }
            return "input";
        }
    }

    /// <summary>A float initializer of values in [-1, 1).</summary>
    public string Floats(string tensor, params long[] dims) => Add(tensor, dims, () => (float)(_random.NextDouble() * 2 - 1));

    /// <summary>A float initializer of values in [0.5, 1.5) (variances, scales).</summary>
    public string Positive(string tensor, params long[] dims) => Add(tensor, dims, () => (float)(_random.NextDouble() + 0.5));

    /// <summary>A 1-D float initializer with the given values.</summary>
    public string Values(string tensor, params float[] values)
    {
        var i = 0;
        return Add(tensor, [values.Length], () => values[i++]);
    }

    /// <summary>A float scalar initializer.</summary>
    public string Scalar(string tensor, float value) => Add(tensor, [], () => value);

    /// <summary>A 1-D int64 initializer.</summary>
    public string Ints(string tensor, params long[] values)
    {
        _graph.Initializers.Add(OnnxTensor.FromInt64s(tensor, [values.Length], values));
        return tensor;
    }

    /// <summary>A Conv with random weights and bias, padding that keeps the size; its weights are named after the node.</summary>
    public string Conv(string x, int cin, int cout, int k = 3, int group = 1)
    {
        var id = Next("conv");
        var w = Floats($"{id}.w", cout, cin / group, k, k);
        var bias = Floats($"{id}.b", cout);
        return Add(id, "Conv", [x, w, bias], 1, [NodeAttribute.FromInts("kernel_shape", [k, k]), NodeAttribute.FromInts("pads", [k / 2, k / 2, k / 2, k / 2]),
            NodeAttribute.FromInt("group", group)])[0];
    }

    /// <summary>A BatchNormalization with random scale, bias, mean and positive variance.</summary>
    public string Bn(string x, int c)
    {
        var id = Next("batchnormalization");
        return Add(id, "BatchNormalization", [x, Positive($"{id}.scale", c), Floats($"{id}.bias", c), Floats($"{id}.mean", c), Positive($"{id}.var", c)], 1, [])[0];
    }

    /// <summary>A node with one output; returns its name.</summary>
    public string Op(string op, string[] inputs, params NodeAttribute[] attributes) => Ops(op, inputs, 1, attributes)[0];

    /// <summary>A node with several outputs; returns their names.</summary>
    /// <remarks>The k-th node of an operator (from 0) is named after it in lower case, with <c>_k</c> from the second on; outputs add <c>_out</c>.</remarks>
    public string[] Ops(string op, string[] inputs, int outputs, params NodeAttribute[] attributes) =>
        Add(Next(op.ToLowerInvariant()), op, inputs, outputs, attributes);

    /// <summary>The model with <paramref name="output"/> as its graph output.</summary>
    public OnnxModel Build(string output)
    {
        _graph.Outputs.Add(new ValueInfo(output, ElementType.Float, null));
        var model = new OnnxModel(_graph) { IrVersion = 8, ProducerName = "acp-tests" };
        model.OpsetImports.Add(new OpsetImport("", opset));
        model.Validate(name);
        return model;
    }

    private string[] Add(string id, string op, string[] inputs, int outputs, NodeAttribute[] attributes)
    {
        var names = Enumerable.Range(0, outputs).Select(i => outputs == 1 ? $"{id}_out" : $"{id}_out{i}").ToArray();
        _graph.Nodes.Add(new Node(id, op, inputs, names, attributes));
        return names;
    }

    private string Add(string tensor, long[] dims, Func<float> next)
    {
        var data = new float[OnnxTensor.CountElements(dims)!.Value];
        for (var i = 0; i < data.Length; i++) data[i] = next();
        _graph.Initializers.Add(OnnxTensor.FromFloats(tensor, dims, data));
        return tensor;
    }

    private string Next(string stem)
    {
        var k = _counts.GetValueOrDefault(stem);
        _counts[stem] = k + 1;
        return k == 0 ? stem : $"{stem}_{k}";
    }
}
