namespace Acp.Pruning.Search;

/// <summary>Which update rule <see cref="ParticleSwarm"/> follows.</summary>
public enum PsoVariant
{
    /// <summary>
    /// Textbook constricted PSO on every dimension: per-dimension r1, r2; the velocity is updated first and the
    /// particle moves with the new velocity.
    /// </summary>
    Standard,

    /// <summary>
    /// The ACP authors' code: one random R per particle per cycle shared by both terms; K dimensions drawn with
    /// replacement (never the last) move with the old velocity times a gain; the velocity is then updated for the
    /// first K dimensions only (an index mismatch in the code, kept for faithfulness).
    /// </summary>
    PaperCode,
}

/// <summary>Settings of <see cref="ParticleSwarm"/>; defaults are the ACP code's.</summary>
public sealed record PsoOptions
{
    /// <summary>Number of particles (the code's <c>food_number</c>).</summary>
    public int Particles { get; init; } = 10;

    /// <summary>Number of update cycles after the initial population (the code's <c>max_cycle</c>).</summary>
    public int Cycles { get; init; } = 8;

    /// <summary>Constriction factor χ, multiplying the whole new velocity.</summary>
    public double Constriction { get; init; } = 0.729;

    /// <summary>Cognitive coefficient c1 (pull towards the particle's best).</summary>
    public double C1 { get; init; } = 2;

    /// <summary>Social coefficient c2 (pull towards the swarm's best).</summary>
    public double C2 { get; init; } = 2;

    /// <summary>Inertia in the first cycle; it falls linearly to <see cref="InertiaEnd"/> in the last.</summary>
    public double InertiaStart { get; init; } = 0.6;

    /// <summary>Inertia in the last cycle.</summary>
    public double InertiaEnd { get; init; } = 0.425;

    /// <summary>
    /// Velocity clamp ±Vmax in channels, used when <see cref="MaxVelocityFraction"/> is null. With rounding to a
    /// multiple m, a Vmax below m/2 can never move a particle off its multiple; use a fraction of the bound then.
    /// </summary>
    public double MaxVelocity { get; init; } = 2;

    /// <summary>When set, the clamp of dimension d is this fraction of its upper bound (at least 1 channel).</summary>
    public double? MaxVelocityFraction { get; init; }

    /// <summary>Widths are rounded to a multiple of this (1 for no rounding).</summary>
    public int RoundTo { get; init; } = 1;

    /// <summary>The seed of the population and of every random draw of the search.</summary>
    public ulong Seed { get; init; }

    /// <summary>The update rule.</summary>
    public PsoVariant Variant { get; init; } = PsoVariant.Standard;

    /// <summary><see cref="PsoVariant.PaperCode"/> only: dimensions moved per particle per cycle (the code's K).</summary>
    public int PaperChangedDimensions { get; init; } = 8;

    /// <summary><see cref="PsoVariant.PaperCode"/> only: position gain r in x ← x + r·v.</summary>
    public double PaperStepGain { get; init; } = 2;
}

/// <summary>One point of the convergence chart.</summary>
/// <param name="Cycle">0 for the initial population, then 1..Cycles.</param>
/// <param name="BestFitness">The best fitness found so far (the swarm's best).</param>
/// <param name="MeanFitness">
/// The mean fitness of the particles' positions in this cycle, over feasible particles only (an unrepairable
/// particle's −∞ would hide the curve); NaN when none is feasible.
/// </param>
public sealed record PsoCycle(int Cycle, double BestFitness, double MeanFitness);

/// <summary>The outcome of a search.</summary>
/// <param name="BestStructure">The best structure found (kept widths per dimension).</param>
/// <param name="BestFitness">Its fitness (−∞ if no candidate was within budget).</param>
/// <param name="History">One entry per cycle, the initial population first.</param>
/// <param name="Evaluations">Number of fitness evaluations, which is the number of distinct structures evaluated.</param>
public sealed record PsoResult(int[] BestStructure, double BestFitness, IReadOnlyList<PsoCycle> History, int Evaluations);
