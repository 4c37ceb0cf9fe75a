namespace Acp.MLNet;

/// <summary>The column names Acp's data views and transformers use (the names ML.NET's <c>DefaultColumnNames</c> uses).</summary>
public static class DefaultColumnNames
{
    /// <summary>The image, as a float vector C×H×W after normalisation.</summary>
    public const string Image = "Image";

    /// <summary>The true class, a key in 0..classes−1.</summary>
    public const string Label = "Label";

    /// <summary>The model's outputs for an image, one per class.</summary>
    public const string Score = "Score";

    /// <summary>The class with the highest score.</summary>
    public const string PredictedLabel = "PredictedLabel";
}

/// <summary>The ONNX <c>metadata_props</c> keys Acp reads and writes.</summary>
public static class ModelMetadataKeys
{
    /// <summary>
    /// Per-channel mean of the input normalisation on the [0, 1] pixel scale, comma-separated (e.g. <c>0.4914,0.4822,0.4465</c>).
    /// </summary>
    public const string Mean = "acp.mean";

    /// <summary>Per-channel standard deviation of the input normalisation on the [0, 1] pixel scale, comma-separated.</summary>
    public const string Std = "acp.std";
}
