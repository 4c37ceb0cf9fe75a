namespace Acp.MLNet;

/// <summary>Quality of a classifier on labelled images (ML.NET's <c>MulticlassClassificationMetrics</c>, the parts Acp reports).</summary>
/// <param name="MicroAccuracy">Fraction of images whose predicted label is the true one (top-1 accuracy).</param>
/// <param name="MacroAccuracy">Mean over the classes present in the labels of the fraction of that class predicted correctly.</param>
/// <param name="TopKAccuracy">Fraction of images whose true label is among the <see cref="TopKPredictionCount"/> highest scores.</param>
/// <param name="TopKPredictionCount">The k of <see cref="TopKAccuracy"/>.</param>
/// <param name="Count">Images scored.</param>
public sealed record ClassificationMetrics(double MicroAccuracy, double MacroAccuracy, double TopKAccuracy, int TopKPredictionCount, int Count)
{
    /// <inheritdoc/>
    public override string ToString() =>
        $"accuracy {MicroAccuracy:P2} (macro {MacroAccuracy:P2}, top-{TopKPredictionCount} {TopKAccuracy:P2}) on {Count} images";
}

/// <summary>Evaluation of classifiers (ML.NET's <c>MulticlassClassificationCatalog</c>, <c>mlContext.MulticlassClassification</c>).</summary>
public sealed class MulticlassClassificationCatalog
{
    internal MulticlassClassificationCatalog()
    {
    }

    /// <summary>Metrics of <paramref name="predictions"/> against their true labels.</summary>
    /// <param name="predictions">What a transformer's <c>Transform</c> returned.</param>
    /// <param name="topKPredictionCount">The k of top-k accuracy (capped at the number of classes).</param>
    /// <exception cref="ArgumentException">There are no predictions, or their score vectors differ in length.</exception>
    public ClassificationMetrics Evaluate(IReadOnlyList<ImagePrediction> predictions, int topKPredictionCount = 5) =>
        Compute(predictions, topKPredictionCount);

    /// <summary>What <see cref="Evaluate"/> computes, for transformers that have no context.</summary>
    internal static ClassificationMetrics Compute(IReadOnlyList<ImagePrediction> predictions, int topKPredictionCount = 5)
    {
        ArgumentNullException.ThrowIfNull(predictions);
        ArgumentOutOfRangeException.ThrowIfLessThan(topKPredictionCount, 1);
        if (predictions.Count == 0) throw new ArgumentException("There are no predictions to evaluate.", nameof(predictions));
        var classes = predictions[0].Score.Length;
        var k = Math.Min(topKPredictionCount, classes);
        var seen = new Dictionary<int, (int Images, int Correct)>();
        int correct = 0, inTopK = 0;
        foreach (var p in predictions)
        {
            if (p.Score.Length != classes) throw new ArgumentException($"Predictions have {classes} and {p.Score.Length} scores; they come from different models.", nameof(predictions));
            var right = p.PredictedLabel == p.Label;
            if (right) correct++;
            // The label is in the top k when fewer than k scores beat it (ties resolved in the label's favour after
            // lower indices, as ArgMax resolves them).
            if (p.Label >= 0 && p.Label < classes)
            {
                var own = p.Score[p.Label];
                var better = 0;
                for (var c = 0; c < classes; c++)
                {
                    if (p.Score[c] > own || (p.Score[c] == own && c < p.Label)) better++;
                }
                if (better < k) inTopK++;
            }
            var (images, hits) = seen.GetValueOrDefault(p.Label);
            seen[p.Label] = (images + 1, hits + (right ? 1 : 0));
        }
        var n = predictions.Count;
        var macro = seen.Values.Average(s => (double)s.Correct / s.Images);
        return new ClassificationMetrics((double)correct / n, macro, (double)inTopK / n, k, n);
    }
}
