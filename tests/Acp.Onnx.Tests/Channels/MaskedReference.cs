using Acp.Onnx.Channels;
using Acp.Onnx.Ir;

namespace Acp.Onnx.Tests.Channels;

/// <summary>
/// An oracle that needs only ONNX Runtime: the original model with a Mul by a 0/1 mask inserted after every value
/// whose channels the plan removes, so removed channels are zero wherever they appear. If the analysis is right,
/// the pruned model computes exactly what this does (up to summation order).
/// </summary>
public static class MaskedReference
{
    public static OnnxModel Build(PruningPlan plan)
    {
        var model = plan.Analysis.Model.Clone();
        var graph = model.Graph;
        foreach (var value in plan.Analysis.TrackedValues.ToList())
        {
            var channels = plan.Analysis.ChannelCount(value)!.Value;
            if (plan.KeptChannels(value) is not { } kept || kept.Length == channels) continue;
            var rank = plan.Analysis.Shapes.ShapeOf(value)!.Length;
            var dims = Enumerable.Repeat(1L, rank).ToArray();
            dims[1] = channels;
            var mask = new float[channels];
            foreach (var c in kept) mask[c] = 1;
            var maskName = $"{value}__mask";
            var masked = $"{value}__masked";
            graph.Initializers.Add(OnnxTensor.FromFloats(maskName, dims, mask));
            foreach (var node in graph.Nodes)
            {
                for (var i = 0; i < node.Inputs.Count; i++)
                {
                    if (node.Inputs[i] == value) node.Inputs[i] = masked;
                }
            }
            var producer = graph.Nodes.FindIndex(n => n.Outputs.Contains(value));
            graph.Nodes.Insert(producer + 1, new Node($"{value}__mask_node", "Mul", [value, maskName], [masked]));
        }
        return model;
    }
}
