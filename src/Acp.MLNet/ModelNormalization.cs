using System.Globalization;
using Acp.Engine.Data;
using Acp.Onnx;
using Acp.Onnx.Ir;

namespace Acp.MLNet;

/// <summary>Reads and writes the input normalisation a model carries in its ONNX metadata (<see cref="ModelMetadataKeys"/>).</summary>
internal static class ModelNormalization
{
    /// <summary>The normalisation in the model's metadata, or null when it has none.</summary>
    /// <exception cref="OnnxModelException">Only one of the two keys is present, or a value is not a list of numbers.</exception>
    public static ChannelNormalization? Read(OnnxModel model, string source)
    {
        var mean = Value(model, ModelMetadataKeys.Mean);
        var std = Value(model, ModelMetadataKeys.Std);
        if (mean is null && std is null) return null;
        if (mean is null || std is null)
        {
            throw new OnnxModelException(source, $"metadata has {(mean is null ? ModelMetadataKeys.Std : ModelMetadataKeys.Mean)} but not {(mean is null ? ModelMetadataKeys.Mean : ModelMetadataKeys.Std)}; both or neither are needed.");
        }
        try
        {
            return new ChannelNormalization(Parse(mean, ModelMetadataKeys.Mean, source), Parse(std, ModelMetadataKeys.Std, source));
        }
        catch (ArgumentException e)
        {
            throw new OnnxModelException(source, $"metadata {ModelMetadataKeys.Mean}='{mean}', {ModelMetadataKeys.Std}='{std}' is not a valid normalisation: {e.Message}", e);
        }
    }

    /// <summary>Sets the two keys to <paramref name="normalization"/>, replacing earlier values, keeping other metadata in place.</summary>
    public static void Write(OnnxModel model, ChannelNormalization normalization)
    {
        Set(model, ModelMetadataKeys.Mean, Format(normalization.Mean));
        Set(model, ModelMetadataKeys.Std, Format(normalization.Std));
    }

    /// <summary>Whether two normalisations map every pixel to the same value.</summary>
    public static bool Same(ChannelNormalization a, ChannelNormalization b) =>
        a.Mean.SequenceEqual(b.Mean) && a.Std.SequenceEqual(b.Std);

    private static string? Value(OnnxModel model, string key)
    {
        foreach (var (k, v) in model.Metadata)
        {
            if (k == key) return v;
        }
        return null;
    }

    private static void Set(OnnxModel model, string key, string value)
    {
        // One entry per key, where the first one was: readers that take the first or the last occurrence agree.
        var index = model.Metadata.FindIndex(kv => kv.Key == key);
        model.Metadata.RemoveAll(kv => kv.Key == key);
        model.Metadata.Insert(index >= 0 ? index : model.Metadata.Count, KeyValuePair.Create(key, value));
    }

    // Round-trip formatting, so a saved model reloads with bit-identical statistics.
    private static string Format(IReadOnlyList<float> values) =>
        string.Join(",", values.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));

    /// <summary>Accepts <c>0.1,0.2</c>, <c>0.1 0.2</c> and the JSON form <c>[0.1, 0.2]</c>.</summary>
    private static float[] Parse(string text, string key, string source)
    {
        var parts = text.Trim().TrimStart('[').TrimEnd(']').Split([',', ' ', '\t', ';'], StringSplitOptions.RemoveEmptyEntries);
        var values = new float[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!float.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]))
            {
                throw new OnnxModelException(source, $"metadata {key}='{text}': '{parts[i]}' is not a number.");
            }
        }
        if (values.Length == 0) throw new OnnxModelException(source, $"metadata {key} is empty.");
        return values;
    }
}
