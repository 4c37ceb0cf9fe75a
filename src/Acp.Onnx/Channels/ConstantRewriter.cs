using Acp.Onnx.Ir;

namespace Acp.Onnx.Channels;

/// <summary>
/// Applies surgery's constant updates copy-on-write. Requests are collected per (node, input) first; then, for each
/// underlying constant (an initializer or Constant node, followed through Identity nodes), the constant is changed
/// in place only when every reader asked for the same new contents; otherwise each distinct new contents becomes a
/// new initializer read directly by the nodes that asked for it, and the other readers keep the original. So a
/// tensor a node outside the group also reads (torch.onnx shares equal initializers through Identity) is never
/// changed under that node.
/// </summary>
internal sealed class ConstantRewriter(Graph graph)
{
    private readonly List<(Node Node, int Input, OnnxTensor Contents)> _requests = [];
    private readonly HashSet<string> _names = AllNames(graph);

    /// <summary>Asks that input <paramref name="input"/> of <paramref name="node"/> read <paramref name="contents"/>.</summary>
    public void Request(Node node, int input, OnnxTensor contents) => _requests.Add((node, input, contents));

    /// <summary>Adds a new initializer and points input <paramref name="input"/> of <paramref name="node"/> at it.</summary>
    public string AddInput(Node node, int input, OnnxTensor contents, string nameHint)
    {
        var name = UniqueName($"{node.Outputs.FirstOrDefault() ?? node.Name}_{nameHint}");
        graph.Initializers.Add(contents.WithName(name));
        while (node.Inputs.Count <= input) node.Inputs.Add("");
        node.Inputs[input] = name;
        Added.Add(name);
        return name;
    }

    /// <summary>Initializers changed in place.</summary>
    public List<string> ChangedInPlace { get; } = [];

    /// <summary>Copies made because another reader needs the original: (original, copy).</summary>
    public List<ConstantCopy> Copies { get; } = [];

    /// <summary>Initializers added for values the node did not state before (equal split sizes).</summary>
    public List<string> Added { get; } = [];

    /// <summary>Applies every request.</summary>
    public void Apply()
    {
        var producers = new Dictionary<string, Node>(StringComparer.Ordinal);
        foreach (var node in graph.Nodes)
        {
            foreach (var output in node.Outputs.Where(o => o.Length > 0)) producers[output] = node;
        }
        // Memoised: every input of a long Identity chain would otherwise walk the chain again (quadratic in its length).
        var sources = new Dictionary<string, string?>(StringComparer.Ordinal);
        var walked = new List<string>();
        string? SourceOf(string value)
        {
            string? source = null;
            walked.Clear();
            for (var hops = 0; hops <= graph.Nodes.Count; hops++)
            {
                if (sources.TryGetValue(value, out var known))
                {
                    source = known;
                    break;
                }
                walked.Add(value);
                if (graph.Initializers.Contains(value))
                {
                    source = value;
                    break;
                }
                if (!producers.TryGetValue(value, out var producer)) break;
                if (producer is { IsStandard: true, OpType: "Constant" } && producer.Attribute("value")?.Tensor is not null)
                {
                    source = value;
                    break;
                }
                if (producer is not { IsStandard: true, OpType: "Identity" } || producer.InputAt(0) is not { } next) break;
                value = next;
            }
            foreach (var name in walked) sources[name] = source;
            return source;
        }

        var readers = new Dictionary<string, List<(Node Node, int Input)>>(StringComparer.Ordinal);
        foreach (var node in graph.Nodes)
        {
            for (var i = 0; i < node.Inputs.Count; i++)
            {
                if (node.Inputs[i].Length > 0 && SourceOf(node.Inputs[i]) is { } source)
                {
                    if (!readers.TryGetValue(source, out var list)) readers[source] = list = [];
                    list.Add((node, i));
                }
            }
        }
        var readByOutputs = graph.Outputs.Select(o => SourceOf(o.Name)).OfType<string>().ToHashSet(StringComparer.Ordinal);

        var bySource = new Dictionary<string, List<(Node Node, int Input, OnnxTensor Contents)>>(StringComparer.Ordinal);
        foreach (var request in _requests)
        {
            var value = request.Node.Inputs[request.Input];
            if (SourceOf(value) is not { } source)
            {
                // A computed input (rules only ask for this when it is safe): the node reads a new constant instead.
                AddInput(request.Node, request.Input, request.Contents, "rewritten");
                continue;
            }
            if (TensorSlicing.SameContents(Contents(source, producers), request.Contents)) continue;
            if (!bySource.TryGetValue(source, out var list)) bySource[source] = list = [];
            list.Add(request);
        }

        foreach (var (source, requests) in bySource)
        {
            var everyReaderAsks = readers[source].All(r => requests.Any(q => ReferenceEquals(q.Node, r.Node) && q.Input == r.Input));
            var oneContents = requests.All(q => TensorSlicing.SameContents(q.Contents, requests[0].Contents));
            if (everyReaderAsks && oneContents && !readByOutputs.Contains(source))
            {
                ReplaceInPlace(source, requests[0].Contents, producers);
                continue;
            }
            var copies = new List<(OnnxTensor Contents, string Name)>();
            foreach (var (node, input, contents) in requests)
            {
                var copy = copies.Find(c => TensorSlicing.SameContents(c.Contents, contents));
                if (copy.Name is null)
                {
                    copy = (contents, UniqueName($"{source}_pruned"));
                    copies.Add(copy);
                    graph.Initializers.Add(contents.WithName(copy.Name));
                    Copies.Add(new ConstantCopy(source, copy.Name));
                }
                node.Inputs[input] = copy.Name;
            }
        }
    }

    private OnnxTensor Contents(string source, Dictionary<string, Node> producers) =>
        graph.Initializers.TryGet(source, out var initializer) ? initializer : producers[source].Attribute("value")!.Tensor!;

    private void ReplaceInPlace(string source, OnnxTensor contents, Dictionary<string, Node> producers)
    {
        if (graph.Initializers.Contains(source))
        {
            graph.Initializers.Set(contents.WithName(source));
            // Old exporters also declare initializers as graph inputs; keep that declaration's shape true.
            foreach (var input in graph.Inputs.Where(i => i.Name == source))
            {
                input.Shape = contents.Dims.Select(Dimension.Fixed).ToArray();
            }
        }
        else
        {
            var constant = producers[source];
            constant.SetAttribute(NodeAttribute.FromTensor("value", contents.WithName(constant.Attribute("value")!.Tensor!.Name)));
        }
        ChangedInPlace.Add(source);
    }

    private string UniqueName(string stem)
    {
        var name = stem;
        for (var i = 2; !_names.Add(name); i++) name = $"{stem}_{i}";
        return name;
    }

    private static HashSet<string> AllNames(Graph graph)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        names.UnionWith(graph.Initializers.Select(t => t.Name));
        names.UnionWith(graph.Inputs.Select(i => i.Name));
        names.UnionWith(graph.Outputs.Select(o => o.Name));
        names.UnionWith(graph.ValueInfos.Select(v => v.Name));
        foreach (var node in graph.Nodes)
        {
            names.UnionWith(node.Inputs);
            names.UnionWith(node.Outputs);
        }
        return names;
    }
}
