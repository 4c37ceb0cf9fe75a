using Acp.Engine.Execution.Layers;

namespace Acp.Engine.Execution;

/// <summary>
/// Training-mode fusion of BatchNormalization → Relu: the normalisation writes max(0, ·) straight into the Relu's
/// output, and the backward pass gates the Relu's gradient by that output as the normalisation's backward reads it.
/// Neither the normalisation's output nor its gradient is written; the results have the same bits as the two nodes
/// apart.
/// </summary>
/// <remarks>
/// A pair qualifies when the normalisation's output has the Relu as its only consumer and is not the network's
/// output. It fuses in a given pass only when nobody captures or masks the normalisation's output (that value must
/// then exist); the Relu's own output is masked and observed as usual. The fused pair runs at the Relu's position
/// in forward and in backward, where everything it reads is ready.
/// </remarks>
internal sealed class TrainingFusion
{
    private readonly (BatchNormLayer Norm, int NormAt, int ReluAt)[] _pairs;
    private readonly BatchNormLayer?[] _runAt;
    private readonly bool[] _skip;

    private TrainingFusion((BatchNormLayer, int, int)[] pairs, int layers)
    {
        _pairs = pairs;
        _runAt = new BatchNormLayer?[layers];
        _skip = new bool[layers];
    }

    public bool HasPairs => _pairs.Length > 0;

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
        for (var i = 0; i < layers.Count; i++)
        {
            if (layers[i] is not BatchNormLayer { Outputs.Length: 1 } norm || norm.Outputs[0] == output) continue;
            if (!consumers.TryGetValue(norm.Outputs[0], out var list) || list.Count != 1) continue;
            if (layers[list[0]] is ActivationLayer { Node.OpType: "Relu", Outputs.Length: 1 } relu && relu.Inputs[0] == norm.Outputs[0])
            {
                pairs.Add((norm, i, list[0]));
            }
        }
        return new TrainingFusion([.. pairs], layers.Count);
    }

    /// <summary>Decides which pairs fuse in the training pass about to run.</summary>
    public void Prepare()
    {
        Array.Clear(_runAt);
        Array.Clear(_skip);
        foreach (var (norm, normAt, reluAt) in _pairs)
        {
            var between = norm.Outputs[0];
            if (between.Observers.Count > 0 || between.ChannelMask is not null) continue;
            _skip[normAt] = true;
            _runAt[reluAt] = norm;
        }
    }

    /// <summary>True when layer <paramref name="index"/> is a normalisation that runs fused at its Relu's position.</summary>
    public bool Skips(int index) => _skip[index];

    /// <summary>The normalisation to run fused in place of the Relu at <paramref name="index"/>, or null.</summary>
    public BatchNormLayer? NormEndingAt(int index) => _runAt[index];
}
