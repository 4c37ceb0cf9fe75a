using Acp.Engine.Backends;
using Acp.Onnx.Ir;

namespace Acp.Pruning.Pipeline;

/// <summary>
/// A graph and the network built from it, with one owner of the weights at a time: the network from construction
/// until <see cref="ToModel"/>, which writes its weights into the graph once and hands the graph back.
/// </summary>
/// <remarks>
/// Before, the weights went graph → network → graph several times on the way to the result (after recalibration,
/// every epoch, and at the end), and two owners changed the pruned model in place. Checkpoints serialise a copy of
/// their own (<see cref="FineTuner"/>); nothing else writes into the graph.
/// </remarks>
internal sealed class Candidate : IDisposable
{
    private OnnxModel? _graph;

    /// <summary>Takes <paramref name="graph"/> (not to be changed by anyone else) and the network built from it.</summary>
    public Candidate(OnnxModel graph, ITrainableNetwork network)
    {
        _graph = graph;
        Network = network;
    }

    /// <summary>The network, which owns the weights until <see cref="ToModel"/>.</summary>
    public ITrainableNetwork Network { get; }

    /// <summary>A copy of the graph as it was built, for a checkpoint to write weights into.</summary>
    public OnnxModel CloneGraph() => (_graph ?? throw Handed()).Clone();

    /// <summary>Whether the graph has an initializer or a node output named <paramref name="name"/>.</summary>
    public bool Defines(string name)
    {
        var graph = _graph ?? throw Handed();
        return graph.Graph.Initializers.Contains(name) || graph.Graph.Nodes.Any(n => n.Outputs.Contains(name));
    }

    /// <summary>The one hand-over: the network's weights written into the graph, the network released, the graph returned.</summary>
    public OnnxModel ToModel()
    {
        var graph = _graph ?? throw Handed();
        Network.WriteWeightsTo(graph);
        Network.Dispose();
        _graph = null;
        return graph;
    }

    public void Dispose()
    {
        if (_graph is null) return;
        Network.Dispose();
        _graph = null;
    }

    private static InvalidOperationException Handed() => new("The candidate's weights were already handed over.");
}
