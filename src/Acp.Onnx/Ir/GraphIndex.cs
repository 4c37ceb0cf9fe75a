namespace Acp.Onnx.Ir;

/// <summary>A use of a value: the consuming node and which of its inputs it is.</summary>
public readonly record struct ValueUse(Node Node, int InputIndex);

/// <summary>
/// Producers, consumers and a topological order of a graph, computed once from the graph as it was when built.
/// Rebuild it after changing the graph.
/// </summary>
public sealed class GraphIndex
{
    private readonly Dictionary<string, Node> _producers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<ValueUse>> _consumers = new(StringComparer.Ordinal);
    private readonly HashSet<string> _graphInputs;
    private readonly HashSet<string> _graphOutputs;

    internal GraphIndex(Graph graph)
    {
        Graph = graph;
        _graphInputs = graph.Inputs.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        _graphOutputs = graph.Outputs.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var node in graph.Nodes)
        {
            foreach (var output in node.Outputs)
            {
                if (output.Length == 0) continue;
                if (!_producers.TryAdd(output, node))
                {
                    Problems.Add($"value '{output}' is produced twice, by node '{_producers[output].DisplayName}' and by node '{node.DisplayName}'.");
                }
            }
            for (var i = 0; i < node.Inputs.Count; i++)
            {
                var input = node.Inputs[i];
                if (input.Length == 0) continue;
                if (!_consumers.TryGetValue(input, out var uses)) _consumers[input] = uses = [];
                uses.Add(new ValueUse(node, i));
            }
        }
        var sparse = graph.SparseInitializerNames.ToHashSet(StringComparer.Ordinal);
        foreach (var node in graph.Nodes)
        {
            foreach (var input in node.Inputs)
            {
                if (input.Length > 0 && !IsDefined(input) && !sparse.Contains(input))
                {
                    Problems.Add($"input '{input}' of node '{node.DisplayName}' ({node.OpType}) is dangling: no node, graph input or initializer produces it.");
                }
            }
        }
        foreach (var output in graph.Outputs)
        {
            if (!IsDefined(output.Name) && !sparse.Contains(output.Name))
            {
                Problems.Add($"graph output '{output.Name}' is not produced by any node, graph input or initializer.");
            }
        }
        TopologicalOrder = Sort(graph.Nodes);
    }

    /// <summary>The graph this index describes.</summary>
    public Graph Graph { get; }

    /// <summary>
    /// The nodes, each after every node that produces one of its inputs, otherwise in their written order.
    /// Null when the graph has a cycle (see <see cref="Problems"/>).
    /// </summary>
    public IReadOnlyList<Node>? TopologicalOrder { get; }

    /// <summary>What makes the graph invalid: dangling inputs, values produced twice, cycles. Empty when valid.</summary>
    public List<string> Problems { get; } = [];

    /// <summary>The node that produces <paramref name="value"/>, or null for graph inputs, initializers and unknown names.</summary>
    public Node? Producer(string value) => _producers.GetValueOrDefault(value);

    /// <summary>Every use of <paramref name="value"/> as a node input.</summary>
    public IReadOnlyList<ValueUse> Consumers(string value) => _consumers.TryGetValue(value, out var uses) ? uses : [];

    /// <summary>True when <paramref name="value"/> is a graph output.</summary>
    public bool IsGraphOutput(string value) => _graphOutputs.Contains(value);

    /// <summary>True when <paramref name="value"/> is a graph input that callers feed (not an initializer).</summary>
    public bool IsGraphInput(string value) => _graphInputs.Contains(value) && !Graph.Initializers.Contains(value);

    /// <summary>True when some node, graph input or initializer defines <paramref name="value"/>.</summary>
    public bool IsDefined(string value) => _producers.ContainsKey(value) || _graphInputs.Contains(value) || Graph.Initializers.Contains(value);

    private List<Node>? Sort(List<Node> nodes)
    {
        // Kahn's algorithm over node positions; a min-heap of positions keeps the written order among ready nodes,
        // so a graph that is already sorted comes back unchanged.
        var position = new Dictionary<Node, int>(ReferenceEqualityComparer.Instance);
        for (var i = 0; i < nodes.Count; i++) position[nodes[i]] = i;
        var pending = new int[nodes.Count];
        var dependents = new List<int>[nodes.Count];
        for (var i = 0; i < nodes.Count; i++)
        {
            dependents[i] = [];
        }
        for (var i = 0; i < nodes.Count; i++)
        {
            foreach (var input in nodes[i].Inputs.Distinct())
            {
                if (input.Length > 0 && _producers.TryGetValue(input, out var producer))
                {
                    pending[i]++;
                    dependents[position[producer]].Add(i);
                }
            }
        }
        var ready = new PriorityQueue<int, int>();
        for (var i = 0; i < nodes.Count; i++)
        {
            if (pending[i] == 0) ready.Enqueue(i, i);
        }
        var order = new List<Node>(nodes.Count);
        while (ready.TryDequeue(out var i, out _))
        {
            order.Add(nodes[i]);
            foreach (var d in dependents[i])
            {
                if (--pending[d] == 0) ready.Enqueue(d, d);
            }
        }
        if (order.Count == nodes.Count) return order;
        var stuck = Enumerable.Range(0, nodes.Count).Where(i => pending[i] > 0).Take(5).Select(i => $"'{nodes[i].DisplayName}'");
        Problems.Add($"the graph has a cycle through nodes {string.Join(", ", stuck)}{(nodes.Count - order.Count > 5 ? ", ..." : "")}.");
        return null;
    }
}
