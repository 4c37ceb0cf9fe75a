using System.Globalization;
using Acp.Onnx.Ir;

namespace Acp.Cli.Commands;

/// <summary>
/// Defaults a model can carry in its ONNX metadata (written by tools/train_fashion_resnet20.py): the normalisation it
/// was trained with (<c>acp.mean</c>, <c>acp.std</c>) and the training images it never saw (<c>acp.validation</c> =
/// "last N of train"), so that pruning the shipped model needs no flags beyond the budget.
/// </summary>
internal static class ModelDefaults
{
    public static string? Mean(OnnxModel model) => Value(model, "acp.mean");

    public static string? Std(OnnxModel model) => Value(model, "acp.std");

    /// <summary>N when the model says its training left out the last N training images.</summary>
    public static int? HeldOutTail(OnnxModel model)
    {
        var text = Value(model, "acp.validation");
        if (text is null || !text.StartsWith("last ", StringComparison.Ordinal)) return null;
        var number = text["last ".Length..].Split(' ')[0];
        return int.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : null;
    }

    private static string? Value(OnnxModel model, string key) =>
        model.Metadata.Where(kv => kv.Key == key).Select(kv => kv.Value).FirstOrDefault();
}
