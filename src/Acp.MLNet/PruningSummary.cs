using System.Globalization;
using System.Text;
using Acp.Pruning.Pipeline;

namespace Acp.MLNet;

/// <summary>Before and after of a pruning run, for people and reports.</summary>
public sealed record PruningSummary
{
    /// <summary>The summary of <paramref name="result"/>, run with <paramref name="options"/>.</summary>
    public static PruningSummary Of(PruningResult result, PruningOptions options)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(options);
        return new PruningSummary
        {
            Strategy = result.Strategy,
            TargetFlops = options.TargetFlops,
            TargetParams = options.TargetParams,
            OriginalParams = result.Original.Params,
            PrunedParams = result.Pruned.Params,
            OriginalMacs = result.Original.Macs,
            PrunedMacs = result.Pruned.Macs,
            OriginalValidationAccuracy = result.Original.ValidationAccuracy,
            PrunedBeforeFineTuningValidationAccuracy = result.PrunedBeforeFineTuning.ValidationAccuracy,
            PrunedValidationAccuracy = result.Pruned.ValidationAccuracy,
            Duration = result.TotalTime,
            Widths = result.Widths,
        };
    }
    /// <summary>The strategy.</summary>
    public required PruningStrategy Strategy { get; init; }

    /// <summary>The FLOPs budget (a fraction of the original), if one was set.</summary>
    public double? TargetFlops { get; init; }

    /// <summary>The parameter budget (a fraction of the original), if one was set.</summary>
    public double? TargetParams { get; init; }

    /// <summary>Parameters of the original model.</summary>
    public required long OriginalParams { get; init; }

    /// <summary>Parameters of the pruned model.</summary>
    public required long PrunedParams { get; init; }

    /// <summary>Multiply-accumulates per image of the original model (FLOPs ≈ 2 × MACs).</summary>
    public required long OriginalMacs { get; init; }

    /// <summary>Multiply-accumulates per image of the pruned model.</summary>
    public required long PrunedMacs { get; init; }

    /// <summary>Pruned parameters as a fraction of the original.</summary>
    public double ParamsFraction => OriginalParams == 0 ? 1 : (double)PrunedParams / OriginalParams;

    /// <summary>Pruned MACs (and FLOPs) as a fraction of the original.</summary>
    public double MacsFraction => OriginalMacs == 0 ? 1 : (double)PrunedMacs / OriginalMacs;

    /// <summary>Top-1 of the original model on the held-out validation images.</summary>
    public double? OriginalValidationAccuracy { get; init; }

    /// <summary>Top-1 of the pruned model before fine-tuning (BatchNormalization recalibrated) on the validation images.</summary>
    public double? PrunedBeforeFineTuningValidationAccuracy { get; init; }

    /// <summary>Top-1 of the pruned, fine-tuned model on the validation images.</summary>
    public double? PrunedValidationAccuracy { get; init; }






    /// <summary>Wall time of the pruning run.</summary>
    public TimeSpan Duration { get; init; }

    /// <summary>Each prunable group's width before and after.</summary>
    public IReadOnlyList<GroupWidth> Widths { get; init; } = [];

    /// <summary>One line: the cuts and the accuracy change.</summary>
    public string Headline()
    {
        var text = new StringBuilder().Append(CultureInfo.InvariantCulture, $"{Strategy}: MACs {MacsFraction:P1} of original, parameters {ParamsFraction:P1}");
        if (OriginalValidationAccuracy is { } a && PrunedValidationAccuracy is { } b)
        {
            text.Append(CultureInfo.InvariantCulture, $", validation accuracy {a:P2} → {b:P2}");
        }
        return text.Append(CultureInfo.InvariantCulture, $" ({Duration.TotalSeconds:F1} s)").ToString();
    }

    /// <summary>A small before/after table.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        void Row(string name, string before, string after) => text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"{name,-22}{before,14}  {after}").TrimEnd());
        static string Accuracy(double? a) => a is { } v ? v.ToString("P2", CultureInfo.InvariantCulture) : "-";
        static string Count(long n) => n.ToString("N0", CultureInfo.InvariantCulture);
        text.AppendLine(CultureInfo.InvariantCulture, $"PruneChannels ({Strategy}), {Duration.TotalSeconds:F1} s");
        Row("", "original", "pruned");
        Row("parameters", Count(OriginalParams), $"{Count(PrunedParams)} ({ParamsFraction:P1})");
        Row("MACs", Count(OriginalMacs), $"{Count(PrunedMacs)} ({MacsFraction:P1})");
        Row("validation accuracy", Accuracy(OriginalValidationAccuracy), Accuracy(PrunedValidationAccuracy));
        return text.ToString().TrimEnd();
    }
}
