using Acp.Onnx.Ir;

namespace Acp.Onnx.Channels;

/// <summary>
/// Removes what surgery left unread: Identity and Constant chains whose readers now read a copy, initializers
/// nobody reads any more. Only things that were read before surgery are removed, so whatever the input model
/// already carried unused stays as it was.
/// </summary>
internal static class GraphCleanup
{
    /// <summary>Every value a node or the graph output reads.</summary>
    public static HashSet<string> ReadValues(Graph graph)
    {
        var read = graph.Nodes.SelectMany(n => n.Inputs).Where(i => i.Length > 0).ToHashSet(StringComparer.Ordinal);
        read.UnionWith(graph.Outputs.Select(o => o.Name));
        return read;
    }

    /// <summary>Removes orphans; returns the names of removed nodes and initializers.</summary>
    public static (List<string> Nodes, List<string> Initializers) RemoveOrphans(Graph graph, HashSet<string> readBefore)
    {
        var removedNodes = new List<string>();
        while (true)
        {
            var read = ReadValues(graph);
            var orphans = graph.Nodes
                .Where(n => n.Outputs.All(o => o.Length == 0 || !read.Contains(o)) && n.Outputs.Any(readBefore.Contains))
                .ToList();
            if (orphans.Count == 0) break;
            foreach (var node in orphans)
            {
                graph.Nodes.Remove(node);
                removedNodes.Add(node.DisplayName);
            }
        }
        var stillRead = ReadValues(graph);
        var removedInitializers = graph.Initializers.Select(t => t.Name).Where(n => !stillRead.Contains(n) && readBefore.Contains(n)).ToList();
        foreach (var name in removedInitializers)
        {
            graph.Initializers.Remove(name);
            graph.Inputs.RemoveAll(i => i.Name == name);
        }
        return (removedNodes, removedInitializers);
    }
}
