using System.CommandLine;
using System.Globalization;
using Acp.Data;
using Acp.Pruning.Pipeline;

namespace Acp.Cli.Commands;

/// <summary>The data-set options shared by eval and prune: where the images are and how to normalise them.</summary>
internal static class DataOptions
{
    /// <summary>The layouts <see cref="DatasetFolder"/> reads, for every command's <c>--data</c> help.</summary>
    public const string DataDescription =
        "Folder of IDX files (MNIST, Fashion-MNIST), CIFAR-10/100 binary batches, or train/ and test/ folders with one folder of PNG/JPEG images per class.";

    public static Option<DirectoryInfo> Data() => new("--data") { Description = DataDescription, Required = true };

    public static Option<string?> Mean(string defaultNote = "the model's acp.mean metadata, else 0") =>
        new Option<string?>("--mean") { Description = $"Per-channel mean after scaling pixels to [0,1], comma-separated (default: {defaultNote})." }
            .Require(v => v is null || Values(v).All(float.IsFinite), "--mean must be finite numbers, comma-separated.");

    public static Option<string?> Std(string defaultNote = "the model's acp.std metadata, else 1") =>
        new Option<string?>("--std") { Description = $"Per-channel standard deviation after scaling pixels to [0,1], comma-separated (default: {defaultNote})." }
            .Require(v => v is null || Values(v).All(f => float.IsFinite(f) && f > 0), "--std must be positive finite numbers, comma-separated.");

    /// <summary>The comma-separated numbers of --mean/--std; a value that is not a number becomes NaN, which the rules refuse.</summary>
    private static IEnumerable<float> Values(string text) => text.Split(',', StringSplitOptions.TrimEntries)
        .Select(v => float.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var f) ? f : float.NaN);

    /// <summary>
    /// Opens a split of the data set in <paramref name="folder"/> for <paramref name="model"/>: folder-per-class images
    /// are converted and resized to the model's input (channels, height, width), when its input declares them.
    /// </summary>
    public static IImageDataset Open(string folder, DatasetSplit split, Acp.Onnx.Ir.OnnxModel model)
    {
        var dims = model.Graph.Inputs.FirstOrDefault(i => !model.Graph.Initializers.Contains(i.Name))?.Shape;
        int? Fixed(int axis) => dims is { Length: 4 } && dims[axis].Value is { } v && v > 0 ? (int)v : null;
        var (channels, height, width) = (Fixed(1), Fixed(2), Fixed(3));
        var images = new ImageFolderOptions
        {
            Channels = channels is 1 or 3 ? channels : null,
            Height = height is not null && width is not null ? height : null,
            Width = height is not null && width is not null ? width : null,
        };
        return DatasetFolder.Open(folder, split, imageOptions: images);
    }

    /// <summary>
    /// --mean and --std for <paramref name="channels"/> channels (a single value applies to every channel); null when
    /// neither is given, so the model's metadata decides (<see cref="ModelDefaults"/>).
    /// </summary>
    public static ChannelNormalization? Normalization(string? mean, string? std, int channels)
    {
        if (mean is null && std is null) return null;
        var m = Parse(mean, "--mean", channels, 0f);
        var s = Parse(std, "--std", channels, 1f);
        if (s.Any(v => v <= 0)) throw new ArgumentException($"--std values must be positive; got {std}.");
        return new ChannelNormalization(m, s);
    }

    /// <summary>--mean/--std when given, else the model's metadata, else scaling to [0, 1] only.</summary>
    public static ChannelNormalization NormalizationFor(string? mean, string? std, Acp.Onnx.Ir.OnnxModel model, string source, int channels) =>
        Normalization(mean, std, channels) ?? ModelDefaults.Normalization(model, source) ?? ChannelNormalization.ScaleOnly(channels);

    private static float[] Parse(string? text, string option, int channels, float fallback)
    {
        if (string.IsNullOrWhiteSpace(text)) return Enumerable.Repeat(fallback, channels).ToArray();
        var values = text.Split(',', StringSplitOptions.TrimEntries).Select(v =>
            float.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var f) ? f : throw new ArgumentException($"{option}: '{v}' is not a number.")).ToArray();
        if (values.Length == 1) return Enumerable.Repeat(values[0], channels).ToArray();
        if (values.Length != channels) throw new ArgumentException($"{option} has {values.Length} values but the images have {channels} channels.");
        return values;
    }
}
