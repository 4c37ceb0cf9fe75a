using Acp.Engine.Execution.Layers;

namespace Acp.Engine.Execution;

/// <summary>
/// Training-mode fusion of BatchNormalization → Relu and of a residual Add → Relu: the first node writes max(0, ·)
/// straight into the Relu's output, and the backward pass gates the Relu's gradient by that output as the first
/// node's backward reads it. Neither the first node's output nor its gradient is written; the results have the same
/// bits as the two nodes apart.
/// </summary>
/// <remarks>
/// A pair qualifies when the first node's output has the Relu as its only consumer and is not the network's
/// output. It fuses in a given pass only when nobody captures or masks that output (the value must then exist) and,
/// for an Add, when both operands have the output's shape; the Relu's own output is masked and observed as usual.
/// The fused pair runs at the Relu's position in forward and in backward, where everything it reads is ready.
/// </remarks>
internal sealed class TrainingFusion
{
    private readonly (BatchNormLayer Norm, ActivationLayer Relu, int NormAt, int ReluAt)[] _pairs;
    private readonly (BinaryLayer Add, ActivationLayer Relu, int AddAt, int ReluAt)[] _addPairs;

    private TrainingFusion((BatchNormLayer, ActivationLayer, int, int)[] pairs, (BinaryLayer, ActivationLayer, int, int)[] addPairs)
    {
        _pairs = pairs;
        _addPairs = addPairs;
    }

    /// <summary>Finds the pairs of <paramref name="layers"/> (in execution order); <paramref name="output"/> is never fused away.</summary>
    public static TrainingFusion Build(IReadOnlyList<Layer> layers, ValueSlot output)
    {
        var consumers = new Dictionary<ValueSlot, List<int>>();
        for (var i = 0; i < layers.Count; i++)
        {
            foreach (var input in layers[i].Inputs.OfType<ValueSlot>().Distinct())
            {
                if (!consumers.TryGetValue(input, out var list)) consumers[input] = list = [];
                list.Add(i);
            }
        }
        var pairs = new List<(BatchNormLayer, ActivationLayer, int, int)>();
        var addPairs = new List<(BinaryLayer, ActivationLayer, int, int)>();
        for (var i = 0; i < layers.Count; i++)
        {
            if (layers[i] is not (BatchNormLayer or BinaryLayer { Node.OpType: "Add" }) || layers[i].Outputs is not [var between] || between == output) continue;
            if (!consumers.TryGetValue(between, out var list) || list.Count != 1) continue;
            if (layers[list[0]] is not ActivationLayer { Node.OpType: "Relu", Outputs.Length: 1 } relu || relu.Inputs[0] != between) continue;
            if (layers[i] is BatchNormLayer norm) pairs.Add((norm, relu, i, list[0]));
            else addPairs.Add(((BinaryLayer)layers[i], relu, i, list[0]));
        }
        return new TrainingFusion([.. pairs], [.. addPairs]);
    }

    /// <summary>
    /// Plans a training pass: each pair that fuses given the pass's hooks, masks and shapes becomes one
    /// <see cref="BatchNormReluLayer"/> or <see cref="AddReluLayer"/> in <paramref name="replacements"/> at the Relu's
    /// position, and the first node's position is set in <paramref name="skips"/>.
    /// </summary>
    public void Rewrite(Layer?[] replacements, bool[] skips)
    {
        foreach (var (norm, relu, normAt, reluAt) in _pairs)
        {
            var between = norm.Outputs[0];
            if (between.Observers.Count > 0 || between.ChannelMask is not null) continue;
            skips[normAt] = true;
            replacements[reluAt] = new BatchNormReluLayer(norm, relu);
        }
        foreach (var (add, relu, addAt, reluAt) in _addPairs)
        {
            var between = add.Outputs[0];
            if (between.Observers.Count > 0 || between.ChannelMask is not null || !add.CanFuseRelu) continue;
            skips[addAt] = true;
            replacements[reluAt] = new AddReluLayer(add, relu);
        }
    }
}
