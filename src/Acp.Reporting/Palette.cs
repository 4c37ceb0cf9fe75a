namespace Acp.Reporting;

/// <summary>
/// The report's colours: a blue/orange pair that stays distinct for the common colour-vision deficiencies, a red
/// reserved for the chosen structure, and muted greys for everything that is context rather than result.
/// </summary>
internal static class Palette
{
    /// <summary>Body text, titles and tick labels.</summary>
    public const string Ink = "#1f2933";

    /// <summary>Secondary text (axis titles, captions).</summary>
    public const string MutedInk = "#52606d";

    /// <summary>Axis lines.</summary>
    public const string Axis = "#7b8794";

    /// <summary>Grid lines behind the data.</summary>
    public const string Grid = "#e4e7eb";

    /// <summary>The best fitness line and the pruned widths: the result.</summary>
    public const string Primary = "#0b5fa5";

    /// <summary>The mean fitness line.</summary>
    public const string Secondary = "#e07b00";

    /// <summary>The original widths: context for the pruned ones.</summary>
    public const string Original = "#b8c4d6";

    /// <summary>Evaluated candidates (drawn translucent, so dense regions read darker).</summary>
    public const string Candidate = "#7f8fa6";

    /// <summary>The chosen structure.</summary>
    public const string Chosen = "#d62728";

    /// <summary>The chosen structure's outline.</summary>
    public const string ChosenOutline = "#7a1013";

    /// <summary>The budget line.</summary>
    public const string Target = "#3e4c59";

    /// <summary>Baseline markers, used in turn (with a different shape each).</summary>
    public static readonly IReadOnlyList<string> Baselines = ["#2a9d3f", "#7b4fb0", "#8c564b", "#c2187a", "#0f8b8d"];
}
