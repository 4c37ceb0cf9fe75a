using Acp.Onnx.Analysis;
using Acp.Onnx.Channels;
using Acp.Onnx.Ir;

namespace Acp.Onnx.Inspection;

/// <summary>A graph input or output as reported: name, element type and shape (declared, or inferred when not declared).</summary>
public sealed record ValueSummary(string Name, string ElementType, string Shape);

/// <summary>One layer that has parameters or does multiply-accumulates.</summary>
/// <param name="Name">The node's display name.</param>
/// <param name="OpType">The operator.</param>
/// <param name="OutChannels">Output channels (dim 1 of a 4-D output, last dim of a matrix product), when known.</param>
/// <param name="Params">Learnable parameters the layer owns.</param>
/// <param name="Macs">Multiply-accumulates, or null when its shapes could not be inferred.</param>
/// <param name="OutputShape">The inferred output shape, or "?".</param>
public sealed record LayerSummary(string Name, string OpType, long? OutChannels, long Params, long? Macs, string OutputShape);

/// <summary>A channel group: channels that must be kept or removed together (see <see cref="ChannelAnalysis"/>).</summary>
/// <param name="Id">The group's id, as surgery and pruning plans name it.</param>
/// <param name="Width">Channels in the group.</param>
/// <param name="Prunable">False when something fences it (a graph output, a grouped conv, an unknown operator).</param>
/// <param name="Producers">Nodes whose output channels the group is.</param>
/// <param name="Consumers">Nodes whose input channels follow the group.</param>
/// <param name="Members">How many values carry the group's channels.</param>
/// <param name="FenceReasons">Why it cannot be pruned; empty when prunable.</param>
public sealed record GroupSummary(int Id, int Width, bool Prunable, IReadOnlyList<string> Producers, IReadOnlyList<string> Consumers, int Members, IReadOnlyList<string> FenceReasons);

/// <summary>
/// What <c>acp inspect</c> reports about a model: its interface, its operators, its layers with their cost, and what
/// Acp could not understand. Plain data, so the CLI can render it as a table or as JSON.
/// </summary>
public sealed class ModelSummary
{
    /// <summary>Operators the pruning stages understand; any other op is listed as not understood.</summary>
    private static readonly HashSet<string> KnownOps = new(StringComparer.Ordinal)
    {
        "Conv", "ConvTranspose", "BatchNormalization", "Relu", "LeakyRelu", "PRelu", "Clip", "Sigmoid", "HardSigmoid",
        "HardSwish", "Tanh", "Mul", "Add", "Sub", "Div", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool",
        "Flatten", "Reshape", "Gemm", "MatMul", "Concat", "Split", "Slice", "Pad", "Dropout", "Identity", "Softmax",
        "LogSoftmax", "Transpose", "Squeeze", "Unsqueeze", "Shape", "Gather", "Constant", "ConstantOfShape", "Cast",
        "ReduceMean",
    };

    /// <summary>The model's file or stream name.</summary>
    public required string Source { get; init; }

    /// <summary>ONNX IR version.</summary>
    public required long IrVersion { get; init; }

    /// <summary>Version of the standard ONNX operator set.</summary>
    public required long Opset { get; init; }

    /// <summary>Producer name and version.</summary>
    public required string Producer { get; init; }

    /// <summary>The batch size used for shape inference and MACs.</summary>
    public required long Batch { get; init; }

    /// <summary>Inputs callers feed (initializers listed as inputs are left out).</summary>
    public required IReadOnlyList<ValueSummary> Inputs { get; init; }

    /// <summary>Graph outputs.</summary>
    public required IReadOnlyList<ValueSummary> Outputs { get; init; }

    /// <summary>How many nodes of each operator, most frequent first (the dictionary keeps that order).</summary>
    public required IReadOnlyDictionary<string, int> OpHistogram { get; init; }

    /// <summary>Layers with parameters or MACs, in topological order.</summary>
    public required IReadOnlyList<LayerSummary> Layers { get; init; }

    /// <summary>Total learnable parameters.</summary>
    public required long TotalParams { get; init; }

    /// <summary>Total multiply-accumulates for one batch of <see cref="Batch"/>.</summary>
    public required long TotalMacs { get; init; }

    /// <summary>Elements of float initializers that are not learnable parameters (kept visible, not hidden).</summary>
    public required long OtherInitializerElements { get; init; }

    /// <summary>Every channel group, prunable ones first.</summary>
    public required IReadOnlyList<GroupSummary> ChannelGroups { get; init; }

    /// <summary>Operators outside what Acp understands, and shapes it could not infer, one sentence each.</summary>
    public required IReadOnlyList<string> NotUnderstood { get; init; }

    /// <summary>Summarises a model, inferring shapes with every symbolic dimension set to <paramref name="batch"/>.</summary>
    public static ModelSummary Create(OnnxModel model, string source, long batch = 1)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        var shapes = ShapeInference.Run(model, symbolicDimValue: batch);
        var cost = ModelCost.Compute(model, shapes);
        var graph = model.Graph;

        var unknownOps = graph.Nodes
            .Where(n => !n.IsStandard || !KnownOps.Contains(n.OpType))
            .GroupBy(n => n.IsStandard ? n.OpType : $"{n.Domain}.{n.OpType}")
            .Select(g => $"operator {g.Key} ({g.Count()} node{(g.Count() == 1 ? "" : "s")}, first '{g.First().DisplayName}') is not supported for pruning; channels through it are fenced.");

        var analysis = ChannelAnalysis.Run(model);
        var groups = analysis.PrunableGroups.Concat(analysis.FencedGroups)
            .Select(g => new GroupSummary(g.Id, g.Width, g.IsPrunable, g.Producers.Select(p => p.ToString()).ToList(),
                g.Consumers.Select(c => c.ToString()).ToList(), g.Members.Count, g.Fences.Select(f => f.ToString()).ToList()))
            .ToList();

        return new ModelSummary
        {
            ChannelGroups = groups,
            Source = source,
            IrVersion = model.IrVersion,
            Opset = model.OpsetVersion,
            Producer = $"{model.ProducerName} {model.ProducerVersion}".Trim(),
            Batch = batch,
            Inputs = graph.RuntimeInputs.Select(v => Describe(v, shapes)).ToList(),
            Outputs = graph.Outputs.Select(v => Describe(v, shapes)).ToList(),
            OpHistogram = graph.Nodes.GroupBy(n => n.OpType).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.Count()),
            Layers = cost.Nodes.Where(c => c.Params > 0 || c.Macs is not 0)
                .Select(c => new LayerSummary(c.Node.DisplayName, c.OpType, c.OutputChannels, c.Params, c.Macs, FormatShape(c.OutputShape)))
                .ToList(),
            TotalParams = cost.TotalParams,
            TotalMacs = cost.TotalMacs,
            OtherInitializerElements = cost.OtherInitializerElements,
            NotUnderstood = unknownOps.Concat(shapes.Diagnostics.Select(d => d.ToString())).ToList(),
        };
    }

    private static ValueSummary Describe(ValueInfo value, ShapeInferenceResult shapes)
    {
        var type = value.ElementType is { } t ? ElementTypes.Name(t) : "?";
        var shape = value.Shape is { } declared && declared.All(d => d.Value is not null || d.Param is not null)
            ? value.ShapeText
            : FormatShape(shapes.ShapeOf(value.Name));
        return new ValueSummary(value.Name, type, shape);
    }

    private static string FormatShape(long[]? shape) => shape is null ? "?" : "[" + string.Join(",", shape) + "]";
}
