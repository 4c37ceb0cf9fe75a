using Acp.Engine.Backends;
using Acp.Data;
using Acp.Engine.Tensors;
using Acp.Onnx.Channels;
using Acp.Onnx.Ir;

namespace Acp.Pruning.Pipeline;

/// <summary>
/// Turns a structure into a runnable candidate: keep-sets from the ranking, surgery on the original model (weights
/// inherited), a network built from the result and its BatchNormalization statistics re-fitted to the pruned channels.
/// </summary>
internal sealed class CandidateBuilder
{
    private readonly ChannelAnalysis _analysis;
    private readonly ChannelRanking _ranking;
    private readonly Tensor[] _recalibration;
    private readonly int _seed;
    private readonly IComputeBackend _backend;

    public CandidateBuilder(ChannelAnalysis analysis, ChannelRanking ranking, BatchLoader recalibration, int seed, IComputeBackend? backend = null)
    {
        _backend = backend ?? EngineBackend.Instance;
        _analysis = analysis;
        _ranking = ranking;
        _seed = seed;
        // A few hundred images, decoded once: every candidate re-fits its statistics on the same batches.
        _recalibration = recalibration.GetBatches(0).Select(b => new Tensor(b.Shape, b.ImageSpan.ToArray())).ToArray();
    }

    public ChannelRanking Ranking => _ranking;

    /// <summary>The pruned model of a structure (weights inherited, statistics not yet re-fitted).</summary>
    public (OnnxModel Model, IReadOnlyDictionary<int, int[]> Keep) Prune(IReadOnlyList<int> widths)
    {
        var keep = _ranking.KeepSets(widths);
        return (ChannelSurgery.Apply(_analysis, keep).Model, keep);
    }

    /// <summary>A network of <paramref name="model"/> with re-fitted BatchNormalization statistics.</summary>
    public ITrainableNetwork Recalibrated(OnnxModel model, CancellationToken cancellation)
    {
        var network = _backend.Build(model, _seed);
        network.RefitBatchNorm(_recalibration, cancellation);
        return network;
    }

    /// <summary>
    /// A network of <paramref name="model"/> trained for a few steps by <paramref name="tuner"/>, then with re-fitted
    /// BatchNormalization statistics (training moved the weights under the running averages).
    /// </summary>
    public ITrainableNetwork Tuned(OnnxModel model, FitnessTuner tuner, CancellationToken cancellation)
    {
        var network = _backend.Build(model, _seed);
        tuner.Tune(network, cancellation);
        network.RefitBatchNorm(_recalibration, cancellation);
        return network;
    }

    /// <summary>Top-1 of <paramref name="network"/> on <paramref name="loader"/>: (correct, images).</summary>
    public static (int Correct, int Images) Score(ITrainableNetwork network, BatchLoader loader, CancellationToken cancellation) =>
        network.Score(loader.GetBatches(0), cancellation);
}
