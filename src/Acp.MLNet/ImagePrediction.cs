namespace Acp.MLNet;

/// <summary>
/// One scored image: the row a transformer adds (ML.NET's <see cref="DefaultColumnNames.Score"/> and
/// <see cref="DefaultColumnNames.PredictedLabel"/> columns), with the image's true label carried through.
/// </summary>
/// <param name="Label">The true class from the data.</param>
/// <param name="PredictedLabel">The class with the highest score (the first one on ties).</param>
/// <param name="Score">
/// The model's first output for the image, one value per class, exactly as the model computes it (logits for most
/// classifiers, probabilities when the graph ends in Softmax), as ML.NET's <c>ApplyOnnxModel</c> passes outputs through.
/// </param>
public sealed record ImagePrediction(int Label, int PredictedLabel, float[] Score)
{
    /// <summary>The scores turned into probabilities by a softmax (meaningful when <see cref="Score"/> holds logits).</summary>
    public float[] Probabilities()
    {
        var max = Score.Max();
        var exp = Score.Select(s => Math.Exp(s - max)).ToArray();
        var sum = exp.Sum();
        return exp.Select(e => (float)(e / sum)).ToArray();
    }

    /// <summary>The index of the largest score, the first on ties.</summary>
    internal static int ArgMax(ReadOnlySpan<float> scores)
    {
        var best = 0;
        for (var i = 1; i < scores.Length; i++)
        {
            if (scores[i] > scores[best]) best = i;
        }
        return best;
    }
}
