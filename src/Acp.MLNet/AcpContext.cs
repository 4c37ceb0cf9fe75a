using Acp.Pruning.Pipeline;

namespace Acp.MLNet;

/// <summary>
/// The starting point of every Acp operation (ML.NET's <c>MLContext</c>): catalogs of data loading, transforms and
/// model persistence, a seed that makes everything reproducible, and a log.
/// </summary>
/// <example>
/// <code>
/// var ctx = new AcpContext(seed: 1);
/// ctx.Log += (_, e) => { if (e.Kind != AcpLogKind.Trace) Console.WriteLine(e.Message); };
/// var train = ctx.Data.LoadImages("data/fashion-mnist", DatasetSplit.Train);
/// var test = ctx.Data.LoadImages("data/fashion-mnist", DatasetSplit.Test);
/// using var pruned = ctx.Transforms.PruneChannels("fashion.onnx", targetFlops: 0.5).Fit(train);
/// pruned.Evaluate(test);
/// Console.WriteLine(pruned.Summary);
/// pruned.Save("fashion.pruned.onnx");
/// </code>
/// </example>
public sealed class AcpContext
{
    /// <summary>A context whose random operations all derive from <paramref name="seed"/>.</summary>
    /// <param name="seed">
    /// The seed of data splits, shuffles and pruning runs whose options set none. Unlike <c>MLContext</c>, null does not
    /// mean "random": Acp's operations are deterministic by default and use their documented default seed.
    /// </param>
    public AcpContext(int? seed = null)
    {
        Seed = seed;
        Transforms = new TransformsCatalog(this);
        Data = new DataOperationsCatalog(this);
        Model = new ModelOperationsCatalog(this);
        MulticlassClassification = new MulticlassClassificationCatalog();
    }

    /// <summary>The seed given to the constructor (<c>MLContext</c> keeps its seed private; Acp shows it).</summary>
    public int? Seed { get; }

    /// <summary>Pruning and other model transforms.</summary>
    public TransformsCatalog Transforms { get; }

    /// <summary>Loading, splitting and shuffling image data.</summary>
    public DataOperationsCatalog Data { get; }

    /// <summary>Loading and saving models.</summary>
    public ModelOperationsCatalog Model { get; }

    /// <summary>Metrics of classifiers.</summary>
    public MulticlassClassificationCatalog MulticlassClassification { get; }

    /// <summary>
    /// Messages from every operation of this context: stage changes and results as <see cref="AcpLogKind.Info"/>, every
    /// progress report as <see cref="AcpLogKind.Trace"/>. Raised on the thread doing the work.
    /// </summary>
    public event EventHandler<AcpLogEventArgs>? Log;

    /// <summary>The seed random operations use when given none.</summary>
    internal int SeedOrDefault => Seed ?? new PruningOptions().Seed;

    internal void Write(AcpLogKind kind, string source, string message, PruningProgress? progress = null) =>
        Log?.Invoke(this, new AcpLogEventArgs(kind, source, message, progress));
}
