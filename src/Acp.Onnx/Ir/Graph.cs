using Acp.Onnx.Format;

namespace Acp.Onnx.Ir;

/// <summary>
/// The computation graph: nodes, graph inputs and outputs, declared intermediate shapes and initializers.
/// A graph is a plain mutable container; <see cref="GraphIndex"/> answers topology questions about a snapshot of it.
/// </summary>
public sealed class Graph
{
    /// <summary>The graph's name.</summary>
    public string Name { get; set; } = "";

    /// <summary>The nodes. ONNX requires them in topological order; <see cref="GraphIndex.TopologicalOrder"/> does not rely on it.</summary>
    public List<Node> Nodes { get; } = [];

    /// <summary>Graph inputs. Names that are also initializers are inputs with a default value (old exporters list every weight).</summary>
    public List<ValueInfo> Inputs { get; } = [];

    /// <summary>Graph outputs.</summary>
    public List<ValueInfo> Outputs { get; } = [];

    /// <summary>Declared types and shapes of intermediate values.</summary>
    public List<ValueInfo> ValueInfos { get; } = [];

    /// <summary>Constant tensors by name, in the order they are written.</summary>
    public InitializerCollection Initializers { get; } = new();

    internal GraphProto? Source { get; init; }

    /// <summary>Names of sparse initializers, which Acp keeps but does not decode.</summary>
    internal IReadOnlyCollection<string> SparseInitializerNames =>
        Source?.SparseInitializer.Select(s => s.Values?.Name ?? "").Where(n => n.Length > 0).ToArray() ?? [];

    /// <summary>Inputs that callers must feed: graph inputs that are not initializers.</summary>
    public IEnumerable<ValueInfo> RuntimeInputs => Inputs.Where(i => !Initializers.Contains(i.Name));

    /// <summary>An index of producers and consumers of the graph as it is now.</summary>
    public GraphIndex BuildIndex() => new(this);

    /// <summary>A deep copy of the structure; tensor data is shared (tensors are treated as immutable).</summary>
    public Graph Clone()
    {
        var copy = new Graph { Name = Name, Source = Source };
        copy.Nodes.AddRange(Nodes.Select(n => n.Clone()));
        copy.Inputs.AddRange(Inputs.Select(v => v.Clone()));
        copy.Outputs.AddRange(Outputs.Select(v => v.Clone()));
        copy.ValueInfos.AddRange(ValueInfos.Select(v => v.Clone()));
        foreach (var t in Initializers) copy.Initializers.Add(t);
        return copy;
    }

    internal static Graph FromProto(GraphProto proto, TensorSource source)
    {
        var graph = new Graph { Name = proto.Name, Source = proto };
        graph.Nodes.AddRange(proto.Node.Select(n => Node.FromProto(n, source)));
        graph.Inputs.AddRange(proto.Input.Select(ValueInfo.FromProto));
        graph.Outputs.AddRange(proto.Output.Select(ValueInfo.FromProto));
        graph.ValueInfos.AddRange(proto.ValueInfo.Select(ValueInfo.FromProto));
        foreach (var t in proto.Initializer)
        {
            if (string.IsNullOrEmpty(t.Name))
            {
                throw source.Error("an initializer has no name.");
            }
            if (graph.Initializers.Contains(t.Name))
            {
                throw source.Error($"initializer '{t.Name}' is defined twice.");
            }
            graph.Initializers.Add(OnnxTensor.FromProto(t, source));
        }
        return graph;
    }

    internal GraphProto ToProto()
    {
        var proto = Source?.Clone() ?? new GraphProto();
        proto.Name = Name;
        proto.Node.Clear();
        proto.Node.Add(Nodes.Select(n => n.ToProto()));
        proto.Input.Clear();
        proto.Input.Add(Inputs.Select(v => v.ToProto()));
        proto.Output.Clear();
        proto.Output.Add(Outputs.Select(v => v.ToProto()));
        proto.ValueInfo.Clear();
        proto.ValueInfo.Add(ValueInfos.Select(v => v.ToProto()));
        proto.Initializer.Clear();
        proto.Initializer.Add(Initializers.Select(t => t.ToProto()));
        return proto;
    }
}
