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
    private readonly (BatchNormLayer Norm, int NormAt, int ReluAt)[] _pairs;
    private readonly (BinaryLayer Add, int AddAt, int ReluAt)[] _addPairs;
    private readonly BatchNormLayer?[] _runAt;
    private readonly BinaryLayer?[] _addRunAt;
    private readonly bool[] _skip;

    private TrainingFusion((BatchNormLayer, int, int)[] pairs, (BinaryLayer, int, int)[] addPairs, int layers)
    {
        _pairs = pairs;
        _addPairs = addPairs;
        _runAt = new BatchNormLayer?[layers];
        _addRunAt = new BinaryLayer?[layers];
        _skip = new bool[layers];
    }

    public bool HasPairs => _pairs.Length > 0 || _addPairs.Length > 0;

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
        var pairs = new List<(BatchNormLayer, int, int)>();
        var addPairs = new List<(BinaryLayer, int, int)>();
        for (var i = 0; i < layers.Count; i++)
        {
            if (layers[i] is not (BatchNormLayer or BinaryLayer { Node.OpType: "Add" }) || layers[i].Outputs is not [var between] || between == output) continue;
            if (!consumers.TryGetValue(between, out var list) || list.Count != 1) continue;
            if (layers[list[0]] is not ActivationLayer { Node.OpType: "Relu", Outputs.Length: 1 } relu || relu.Inputs[0] != between) continue;
            if (layers[i] is BatchNormLayer norm) pairs.Add((norm, i, list[0]));
            else addPairs.Add(((BinaryLayer)layers[i], i, list[0]));
        }
        return new TrainingFusion([.. pairs], [.. addPairs], layers.Count);
    }

    /// <summary>Decides which pairs fuse in the training pass about to run.</summary>
    public void Prepare()
    {
        Array.Clear(_runAt);
        Array.Clear(_addRunAt);
        Array.Clear(_skip);
        foreach (var (norm, normAt, reluAt) in _pairs)
        {
            var between = norm.Outputs[0];
            if (between.Observers.Count > 0 || between.ChannelMask is not null) continue;
            _skip[normAt] = true;
            _runAt[reluAt] = norm;
        }
        foreach (var (add, addAt, reluAt) in _addPairs)
        {
            var between = add.Outputs[0];
            if (between.Observers.Count > 0 || between.ChannelMask is not null || !add.CanFuseRelu) continue;
            _skip[addAt] = true;
            _addRunAt[reluAt] = add;
        }
    }

    /// <summary>True when layer <paramref name="index"/> is a normalisation or an Add that runs fused at its Relu's position.</summary>
    public bool Skips(int index) => _skip[index];

    /// <summary>The normalisation to run fused in place of the Relu at <paramref name="index"/>, or null.</summary>
    public BatchNormLayer? NormEndingAt(int index) => _runAt[index];

    /// <summary>The Add to run fused in place of the Relu at <paramref name="index"/>, or null.</summary>
    public BinaryLayer? AddEndingAt(int index) => _addRunAt[index];
}
