using Acp.Onnx.Ir;

namespace Acp.Onnx.Analysis;

/// <summary>
/// Parameter and multiply-accumulate counts of a model, per node and in total.
/// </summary>
/// <remarks>
/// <para>
/// MACs follow thop and fvcore for convolutions and linear layers: only Conv, ConvTranspose, Gemm and MatMul are
/// counted, bias additions are not, and the batch size is whatever the inferred shapes have (1 for a symbolic
/// batch by default). Conv = output elements × (C_in / group) × prod(kernel); ConvTranspose = input elements ×
/// (C_out / group) × prod(kernel); Gemm = M × K × N; MatMul = prod(broadcast batch dimensions) × M × K × N.
/// </para>
/// <para>
/// Parameters are the elements of floating-point initializers (and Constant-node tensors, also seen through
/// Identity nodes) that feed learnable slots: Conv and ConvTranspose W and B; Gemm B and C; MatMul operands;
/// BatchNormalization, InstanceNormalization and LayerNormalization scale and bias (not BN mean and variance,
/// which PyTorch keeps as buffers); PRelu slope; and any such tensor of more than one element feeding Add, Mul,
/// Sub or Div (a learned scale or shift). Clip bounds, shapes, split sizes, pads and integer tensors are not
/// parameters. A value consumed twice counts once, for its first consumer in topological order, but each Identity
/// over a shared initializer counts on its own: torch.onnx writes distinct PyTorch parameters that hold equal
/// values that way, and PyTorch counts each of them. Float
/// initializer elements no slot consumed are reported in <see cref="OtherInitializerElements"/>.
/// </para>
/// </remarks>
public sealed class ModelCost
{
    private ModelCost(IReadOnlyList<NodeCost> nodes, long otherInitializerElements)
    {
        Nodes = nodes;
        OtherInitializerElements = otherInitializerElements;
        TotalParams = nodes.Sum(n => n.Params);
        TotalMacs = nodes.Sum(n => n.Macs ?? 0);
        NodesWithUnknownMacs = nodes.Count(n => n.Macs is null);
    }

    /// <summary>One entry per node, in topological order.</summary>
    public IReadOnlyList<NodeCost> Nodes { get; }

    /// <summary>Learnable parameter elements of the whole model.</summary>
    public long TotalParams { get; }

    /// <summary>MACs of the whole model, leaving out nodes whose MACs are unknown (see <see cref="NodesWithUnknownMacs"/>).</summary>
    public long TotalMacs { get; }

    /// <summary>Counted nodes (Conv, Gemm, ...) whose MACs are unknown because shape inference could not reach them.</summary>
    public int NodesWithUnknownMacs { get; }

    /// <summary>
    /// Elements of floating-point initializers that are not parameters under this convention (BN mean and
    /// variance, Clip bounds, unused initializers, ...), so that nothing is silently left out.
    /// </summary>
    public long OtherInitializerElements { get; }

    /// <summary>Counts the parameters and MACs of <paramref name="model"/>.</summary>
    /// <param name="model">The model.</param>
    /// <param name="shapes">Shape inference of the same model; its batch size is the one MACs are counted for.</param>
    public static ModelCost Compute(OnnxModel model, ShapeInferenceResult shapes)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(shapes);
        var graph = model.Graph;
        var index = graph.BuildIndex();
        var sources = new ParameterSources(graph, index);
        var counted = new HashSet<string>(StringComparer.Ordinal);
        var nodes = new List<NodeCost>(graph.Nodes.Count);
        foreach (var node in index.TopologicalOrder ?? graph.Nodes)
        {
            long parameters = 0;
            foreach (var input in ParameterInputs(node))
            {
                if (node.InputAt(input) is { } name && sources.Resolve(name) is { } source
                    && (!IsArithmetic(node) || source.Elements > 1) && counted.Add(source.Name))
                {
                    parameters += source.Elements;
                }
            }
            var outputShape = node.Outputs.FirstOrDefault() is { Length: > 0 } output ? shapes.ShapeOf(output) : null;
            nodes.Add(new NodeCost(node, node.OpType, parameters, MacCounter.Count(node, shapes), OutputChannels(node, outputShape), outputShape));
        }
        var other = graph.Initializers
            .Where(t => ParameterSources.IsFloating(t.ElementType) && !counted.Contains(t.Name))
            .Sum(t => t.ElementCount);
        return new ModelCost(nodes, other);
    }

    /// <summary>The inputs of a node that may hold learnable parameters.</summary>
    private static int[] ParameterInputs(Node node) => !node.IsStandard ? [] : node.OpType switch
    {
        "Conv" or "ConvTranspose" or "Gemm" => [1, 2],
        "BatchNormalization" or "InstanceNormalization" or "LayerNormalization" => [1, 2],
        "MatMul" or "Add" or "Mul" or "Sub" or "Div" => [0, 1],
        "PRelu" => [1],
        _ => [],
    };

    /// <summary>True for element-wise arithmetic, whose operands are parameters only when they have more than one element.</summary>
    private static bool IsArithmetic(Node node) => node.OpType is "Add" or "Mul" or "Sub" or "Div";

    private static long? OutputChannels(Node node, long[]? shape) => shape switch
    {
        null => null,
        { Length: >= 1 } when node.OpType is "Gemm" or "MatMul" => shape[^1],
        { Length: >= 2 } => shape[1],
        _ => null,
    };
}
