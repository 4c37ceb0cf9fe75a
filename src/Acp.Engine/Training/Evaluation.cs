using Acp.Data;
using Acp.Engine.Backends;
using Acp.Engine.Execution;
using Acp.Engine.Tensors;

namespace Acp.Engine.Training;

/// <summary>Top-1 and top-5 accuracy of a network on a set of labelled batches.</summary>
/// <param name="Top1">Fraction (0..1) of images whose highest-scoring class is the label.</param>
/// <param name="Top5">Fraction whose label is among the five highest scores; null with five or fewer classes.</param>
/// <param name="Images">How many images were scored.</param>
/// <param name="MeanLoss">Mean softmax cross-entropy.</param>
public sealed record AccuracyResult(double Top1, double? Top5, int Images, double MeanLoss);

/// <summary>Scores a network in inference mode.</summary>
public static class Evaluation
{
    /// <summary>Runs every batch through <paramref name="network"/> in inference mode and counts correct predictions.</summary>
    public static AccuracyResult Accuracy(Network network, IEnumerable<Batch> batches, IProgress<int>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(batches);
        var wasTraining = network.Training;
        network.Training = false;
        try
        {
            return Tally(batches, batch => network.Forward(batch.Shape, batch.ImageSpan), progress, cancellation);
        }
        finally
        {
            network.Training = wasTraining;
        }
    }

    /// <summary>
    /// The same scores for a network of any backend (<see cref="ITrainableNetwork"/>), counted from its inference-mode
    /// logits exactly as for the engine's <see cref="Network"/>, so two backends' results differ only by their logits.
    /// </summary>
    public static AccuracyResult Accuracy(ITrainableNetwork network, IEnumerable<Batch> batches, IProgress<int>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(batches);
        return Tally(batches, batch => network.Forward(batch.Shape, batch.ImageSpan, training: false), progress, cancellation);
    }

    private static AccuracyResult Tally(IEnumerable<Batch> batches, Func<Batch, Tensor> logitsOf, IProgress<int>? progress, CancellationToken cancellation)
    {
        long top1 = 0, top5 = 0, images = 0;
        double lossSum = 0;
        int? classes = null;
        foreach (var batch in batches)
        {
            cancellation.ThrowIfCancellationRequested();
            var logits = logitsOf(batch);
            var k = logits.Length / batch.Count;
            classes = k;
            for (var i = 0; i < batch.Count; i++)
            {
                var row = logits.Data.AsSpan(i * k, k);
                var label = batch.Labels[i];
                if ((uint)label >= (uint)k) throw new EngineException($"Label {label} of image {batch.Indices[i]} is outside the model's {k} classes.");
                // Equal scores rank by class index (first of equal maxima wins), as argmax does.
                var higher = 0;
                for (var j = 0; j < k; j++)
                {
                    if (row[j] > row[label] || (row[j] == row[label] && j < label)) higher++;
                }
                if (higher == 0) top1++;
                if (higher < 5) top5++;
                lossSum += CrossEntropy(row, label);
            }
            images += batch.Count;
            progress?.Report((int)images);
        }
        if (images == 0) throw new ArgumentException("No images to evaluate.", nameof(batches));
        return new AccuracyResult(top1 / (double)images, classes > 5 ? top5 / (double)images : null, (int)images, lossSum / images);
    }

    private static double CrossEntropy(ReadOnlySpan<float> logits, int label)
    {
        double max = double.NegativeInfinity;
        foreach (var v in logits) max = Math.Max(max, v);
        double sum = 0;
        foreach (var v in logits) sum += Math.Exp(v - max);
        return Math.Log(sum) + max - logits[label];
    }
}
