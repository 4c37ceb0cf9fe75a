using Acp.Onnx.Channels;

namespace Acp.Pruning.Pipeline;

/// <summary>
/// The cost limit of a run: at most a fraction of the original MACs and/or parameters. Structures are widths of the
/// searched groups, in order; every other group keeps all its channels.
/// </summary>
public sealed class Budget
{
    private readonly CostPredictor _predictor;
    private readonly IReadOnlyList<ChannelGroup> _groups;

    /// <summary>A budget over <paramref name="groups"/> of the model <paramref name="predictor"/> was made for.</summary>
    /// <exception cref="ArgumentException">Neither limit is set, or one is outside (0, 1].</exception>
    public Budget(CostPredictor predictor, IReadOnlyList<ChannelGroup> groups, double? macsFraction, double? paramsFraction)
    {
        ArgumentNullException.ThrowIfNull(predictor);
        ArgumentNullException.ThrowIfNull(groups);
        if (macsFraction is null && paramsFraction is null) throw new ArgumentException("A budget needs a MAC or a parameter limit.");
        if (macsFraction is { } m && !(m > 0 && m <= 1)) throw new ArgumentException($"The MAC fraction must be in (0, 1]; got {m}.", nameof(macsFraction));
        if (paramsFraction is { } p && !(p > 0 && p <= 1)) throw new ArgumentException($"The parameter fraction must be in (0, 1]; got {p}.", nameof(paramsFraction));
        _predictor = predictor;
        _groups = groups;
        MacsFraction = macsFraction;
        ParamsFraction = paramsFraction;
        MaxMacs = macsFraction is { } mf ? (long)Math.Floor(mf * predictor.Original.Macs) : null;
        MaxParams = paramsFraction is { } pf ? (long)Math.Floor(pf * predictor.Original.Params) : null;
    }

    /// <summary>The MAC limit as a fraction of the original, or null.</summary>
    public double? MacsFraction { get; }

    /// <summary>The parameter limit as a fraction of the original, or null.</summary>
    public double? ParamsFraction { get; }

    /// <summary>The largest MAC count allowed, or null.</summary>
    public long? MaxMacs { get; }

    /// <summary>The largest parameter count allowed, or null.</summary>
    public long? MaxParams { get; }

    /// <summary>The original model's cost.</summary>
    public PredictedCost Original => _predictor.Original;

    /// <summary>The predicted cost of a structure.</summary>
    public PredictedCost Cost(IReadOnlyList<int> widths)
    {
        ArgumentNullException.ThrowIfNull(widths);
        if (widths.Count != _groups.Count) throw new ArgumentException($"The structure has {widths.Count} widths for {_groups.Count} groups.", nameof(widths));
        var byGroup = new Dictionary<int, int>();
        for (var d = 0; d < widths.Count; d++) byGroup[_groups[d].Id] = widths[d];
        return _predictor.PredictFromWidths(byGroup);
    }

    /// <summary>Whether a cost is within every limit.</summary>
    public bool Allows(PredictedCost cost) => (MaxMacs is not { } m || cost.Macs <= m) && (MaxParams is not { } p || cost.Params <= p);

    /// <summary>Whether a structure is within every limit.</summary>
    public bool Allows(IReadOnlyList<int> widths) => Allows(Cost(widths));

    /// <summary>
    /// How much of the budget a structure uses: the larger of MACs / MAC limit and params / parameter limit (≤ 1 means
    /// within budget). Non-decreasing in every width, which is what the ε bisection needs.
    /// </summary>
    public double Usage(IReadOnlyList<int> widths)
    {
        var cost = Cost(widths);
        var usage = 0.0;
        if (MaxMacs is { } m) usage = Math.Max(usage, cost.Macs / (double)Math.Max(1, m));
        if (MaxParams is { } p) usage = Math.Max(usage, cost.Params / (double)Math.Max(1, p));
        return usage;
    }

    /// <summary>
    /// The uniform structure of the baselines: every group keeps width·(1 − r) rounded to <paramref name="roundTo"/>,
    /// for the smallest r (found by bisection to 1e-6) that fits the budget.
    /// </summary>
    /// <exception cref="InvalidOperationException">Even the narrowest uniform structure is over budget.</exception>
    public (double Ratio, int[] Widths) Uniform(int roundTo)
    {
        int[] At(double r) => Widths(_groups, r, roundTo);
        var narrowest = _groups.Select(g => Math.Min(roundTo, g.Width)).ToArray();
        if (!Allows(narrowest))
        {
            throw new InvalidOperationException($"The budget cannot be met: even {Math.Min(roundTo, _groups.Min(g => g.Width))}-channel groups cost {Describe(Cost(narrowest))}.");
        }
        if (Allows(At(0))) return (0, At(0));
        double lo = 0, hi = 1;
        for (var i = 0; i < 40 && hi - lo > 1e-6; i++)
        {
            var mid = (lo + hi) / 2;
            if (Allows(At(mid))) hi = mid;
            else lo = mid;
        }
        return Allows(At(hi)) ? (hi, At(hi)) : (1, narrowest);
    }

    /// <summary>
    /// The widths of <paramref name="groups"/> when each loses <paramref name="ratio"/> of its channels: width·(1 − r)
    /// rounded to a multiple of <paramref name="roundTo"/> (<see cref="ChannelRounding.RoundWidth"/>). A given ratio (the
    /// structure-only <c>--ratio</c>) and the budget's <see cref="Uniform"/> both become widths here.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="ratio"/> is outside [0, 1) or <paramref name="roundTo"/> below 1.</exception>
    public static int[] UniformWidths(IReadOnlyList<ChannelGroup> groups, double ratio, int roundTo = ChannelRounding.DefaultMultiple)
    {
        ArgumentNullException.ThrowIfNull(groups);
        if (!(ratio >= 0 && ratio < 1)) throw new ArgumentOutOfRangeException(nameof(ratio), ratio, "The ratio of channels to remove must be at least 0 and below 1.");
        ArgumentOutOfRangeException.ThrowIfLessThan(roundTo, 1);
        return Widths(groups, ratio, roundTo);
    }

    private static int[] Widths(IReadOnlyList<ChannelGroup> groups, double ratio, int roundTo) =>
        groups.Select(g => ChannelRounding.RoundWidth(g.Width, g.Width * (1 - ratio), roundTo)).ToArray();

    /// <summary>
    /// The group whose next rounding step down saves the most MACs per parameter it removes (a greedy knapsack step:
    /// meet a MAC budget keeping as much capacity as possible); −1 when every group is at its narrowest. Ties go to
    /// the lowest index.
    /// </summary>
    public int CheapestMacs(int[] widths, int[] upperBounds, int roundTo)
    {
        var cost = Cost(widths);
        var pick = -1;
        var best = double.NegativeInfinity;
        for (var d = 0; d < widths.Length; d++)
        {
            var down = Search.StructureRounding.StepDown(widths[d], upperBounds[d], roundTo);
            if (down == widths[d]) continue;
            var narrower = (int[])widths.Clone();
            narrower[d] = down;
            var after = Cost(narrower);
            var saved = (double)(cost.Macs - after.Macs) / Math.Max(1, cost.Params - after.Params);
            if (saved > best) (pick, best) = (d, saved);
        }
        return pick;
    }

    /// <summary>"12.3 M MACs (0.49×), 0.13 M params (0.48×)".</summary>
    public string Describe(PredictedCost cost) =>
        $"{cost.Macs:N0} MACs ({cost.Macs / (double)Math.Max(1, Original.Macs):0.###}×), {cost.Params:N0} params ({cost.Params / (double)Math.Max(1, Original.Params):0.###}×)";
}
