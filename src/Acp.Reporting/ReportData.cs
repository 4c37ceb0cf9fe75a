namespace Acp.Reporting;

/// <summary>
/// Everything the pruning report shows, as plain values: the pipeline maps its results onto this record and
/// <see cref="HtmlReport"/> renders it. Every list may be empty; its section then says there is nothing to show.
/// </summary>
/// <remarks>
/// All text is treated as untrusted (model names come from users) and escaped when rendered. The report is a pure
/// function of this record: the same data gives the same bytes, so a time stamp belongs in <see cref="Notes"/> if
/// one is wanted.
/// </remarks>
public sealed record ReportData
{
    /// <summary>The report's heading, e.g. "Pruning report".</summary>
    public string Title { get; init; } = "Pruning report";

    /// <summary>The model's name or file name.</summary>
    public string ModelName { get; init; } = "";

    /// <summary>The strategy that chose the channels, e.g. "acp" or "l1-norm".</summary>
    public string Strategy { get; init; } = "";

    /// <summary>The budget in words, e.g. "≤ 50% of the original MACs".</summary>
    public string TargetDescription { get; init; } = "";

    /// <summary>
    /// The FLOPs budget as a fraction of the original (FLOPs and MACs shrink alike), drawn as a dashed line on the trade-off chart; null draws none.
    /// </summary>
    public double? TargetFlopsFraction { get; init; }

    /// <summary>Before/after rows of the summary table (parameters, MACs, accuracy, latency...).</summary>
    public IReadOnlyList<ReportRow> Summary { get; init; } = [];

    /// <summary>The search's fitness per cycle; empty for strategies that do not search.</summary>
    public IReadOnlyList<ConvergencePoint> Convergence { get; init; } = [];

    /// <summary>Widths of the prunable layers (or channel groups) before and after pruning, in model order.</summary>
    public IReadOnlyList<LayerWidth> Layers { get; init; } = [];

    /// <summary>Every evaluated candidate structure, the chosen one marked with <see cref="CandidatePoint.IsBest"/>.</summary>
    public IReadOnlyList<CandidatePoint> Candidates { get; init; } = [];

    /// <summary>Reference results (e.g. L1-norm or random pruning at the same budget) shown next to the candidates.</summary>
    public IReadOnlyList<BaselinePoint> Baselines { get; init; } = [];

    /// <summary>Free-text remarks, one paragraph each, shown at the end.</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];
}

/// <summary>One row of the before/after table; the values are already formatted (units included).</summary>
/// <param name="Metric">What is measured, e.g. "Parameters".</param>
/// <param name="Before">The original model's value, e.g. "11.2 M".</param>
/// <param name="After">The pruned model's value.</param>
public sealed record ReportRow(string Metric, string Before, string After);

/// <summary>The swarm's fitness after one search cycle.</summary>
/// <param name="Cycle">The cycle number (0 for the initial population).</param>
/// <param name="BestFitness">The best fitness found so far; a non-finite value leaves a gap in the line.</param>
/// <param name="MeanFitness">The particles' mean fitness in that cycle; NaN when unknown (leaves a gap).</param>
public sealed record ConvergencePoint(int Cycle, double BestFitness, double MeanFitness);

/// <summary>A layer's (or channel group's) width before and after pruning.</summary>
/// <param name="Name">The layer's name as the model spells it.</param>
/// <param name="OriginalWidth">Output channels before pruning.</param>
/// <param name="PrunedWidth">Output channels kept.</param>
public sealed record LayerWidth(string Name, int OriginalWidth, int PrunedWidth);

/// <summary>One evaluated candidate structure.</summary>
/// <param name="MacsFraction">Its MACs as a fraction of the original model's (0..1).</param>
/// <param name="Accuracy">Its accuracy as a fraction (0..1).</param>
/// <param name="IsBest">Whether this is the structure the run chose.</param>
public sealed record CandidatePoint(double MacsFraction, double Accuracy, bool IsBest = false);

/// <summary>A reference result drawn as a labelled marker on the trade-off chart.</summary>
/// <param name="Name">Its label, e.g. "l1-norm".</param>
/// <param name="MacsFraction">Its MACs as a fraction of the original model's (0..1).</param>
/// <param name="Accuracy">Its accuracy as a fraction (0..1).</param>
public sealed record BaselinePoint(string Name, double MacsFraction, double Accuracy);
