using System.Globalization;
using Acp.Data;
using Acp.Onnx;
using Acp.Onnx.Ir;

namespace Acp.Pruning.Pipeline;

/// <summary>
/// Defaults a model can carry in its ONNX metadata (written by tools/train_fashion_resnet20.py and by Acp itself): the
/// normalisation it was trained with (<see cref="MeanKey"/>, <see cref="StdKey"/>) and the training images it never
/// saw (<see cref="ValidationKey"/> = "last N of train"), so that pruning such a model needs no flags beyond the budget.
/// <see cref="PruningOptions.ResolvedFor"/> applies them; this is the only reader of these keys.
/// </summary>
public static class ModelDefaults
{
    /// <summary>Per-channel mean on the [0, 1] pixel scale, comma-separated (one value applies to every channel).</summary>
    public const string MeanKey = "acp.mean";

    /// <summary>Per-channel standard deviation on the [0, 1] pixel scale, comma-separated.</summary>
    public const string StdKey = "acp.std";

    /// <summary>Which training images the model never saw, as "last N of train".</summary>
    public const string ValidationKey = "acp.validation";

    /// <summary>The normalisation in the model's metadata for its input's channels, or null when it has none.</summary>
    /// <exception cref="OnnxModelException">Only one of the two keys is present, or a value is not a list of numbers.</exception>
    public static ChannelNormalization? Normalization(OnnxModel model, string source)
    {
        ArgumentNullException.ThrowIfNull(model);
        var mean = Value(model, MeanKey);
        var std = Value(model, StdKey);
        if (mean is null && std is null) return null;
        if (mean is null || std is null)
        {
            throw new OnnxModelException(source, $"metadata has {(mean is null ? StdKey : MeanKey)} but not {(mean is null ? MeanKey : StdKey)}; both or neither are needed.");
        }
        var m = Parse(mean, MeanKey, source);
        var s = Parse(std, StdKey, source);
        var channels = InputChannels(model) ?? Math.Max(m.Length, s.Length);
        try
        {
            return new ChannelNormalization(Broadcast(m, channels, MeanKey, source), Broadcast(s, channels, StdKey, source));
        }
        catch (ArgumentException e)
        {
            throw new OnnxModelException(source, $"metadata {MeanKey}='{mean}', {StdKey}='{std}' is not a valid normalisation: {e.Message}", e);
        }
    }

    /// <summary>N when the model says its training left out the last N training images.</summary>
    public static int? HeldOutTail(OnnxModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var text = Value(model, ValidationKey);
        if (text is null || !text.StartsWith("last ", StringComparison.Ordinal)) return null;
        var number = text["last ".Length..].Split(' ')[0];
        return int.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : null;
    }

    /// <summary>Sets the two normalisation keys, replacing earlier values and keeping other metadata in place.</summary>
    public static void WriteNormalization(OnnxModel model, ChannelNormalization normalization)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(normalization);
        Set(model, MeanKey, Format(normalization.Mean));
        Set(model, StdKey, Format(normalization.Std));
    }

    /// <summary>The channel count of the model's first runtime input (NCHW), when it is fixed.</summary>
    public static int? InputChannels(OnnxModel model) =>
        model.Graph.RuntimeInputs.FirstOrDefault()?.Shape is { Length: 4 } dims && dims[1].Value is { } c && c > 0 ? (int)c : null;

    private static string? Value(OnnxModel model, string key) =>
        model.Metadata.Where(kv => kv.Key == key).Select(kv => kv.Value).FirstOrDefault();

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

    private static float[] Broadcast(float[] values, int channels, string key, string source) =>
        values.Length == channels ? values
        : values.Length == 1 ? Enumerable.Repeat(values[0], channels).ToArray()
        : throw new OnnxModelException(source, $"metadata {key} has {values.Length} values but the model's input has {channels} channels.");

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
