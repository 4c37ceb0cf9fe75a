namespace Acp.Pruning.Search;

/// <summary>
/// Particle swarm optimisation over integer structures (kept widths per layer) with bounds [1, upper_d]: ACP's
/// step (d). Deterministic for <see cref="PsoOptions.Seed"/>.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="PsoVariant.Standard"/> update, per particle and dimension with fresh r1, r2 ~ U(0, 1):
/// v ← χ·(w_t·v + c1·r1·(pbest − x) + c2·r2·(gbest − x)), clamped to ±Vmax; x ← clip(round(x + v), 1, upper), then
/// rounded to a multiple of <see cref="PsoOptions.RoundTo"/>; a particle that leaves the bounds loses its velocity
/// in that dimension (absorbing walls). The inertia w_t falls linearly from
/// <see cref="PsoOptions.InertiaStart"/> to <see cref="PsoOptions.InertiaEnd"/> over the cycles. Particles are
/// updated one after another and the swarm's best is updated at once (asynchronous PSO, as in the ACP code).
/// Initial velocities are uniform in ±Vmax, initial positions come from <see cref="Population.AroundClustering"/>.
/// </para>
/// <para>
/// Budget handling is by repair: a candidate for which <c>withinBudget</c> is false is shrunk one rounding step at
/// a time, always in the dimension with the largest relative width (width / upper; the lowest index on ties),
/// until it is within budget; the particle then sits at the repaired structure. A candidate that cannot be
/// repaired (every dimension at its smallest width and still over budget) gets fitness −∞ without being
/// evaluated. Only structures within budget ever reach the fitness callback.
/// </para>
/// <para>
/// Fitness is cached by structure: each distinct structure is evaluated once, because in ACP one evaluation is
/// epochs of fine-tuning.
/// </para>
/// </remarks>
public sealed class ParticleSwarm
{
    /// <summary>Creates a swarm with the given settings.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A count below 1 or a negative velocity clamp.</exception>
    public ParticleSwarm(PsoOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Particles, 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Cycles, 0, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.RoundTo, 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.PaperChangedDimensions, 1, nameof(options));
        if (!(options.MaxVelocity >= 0) || options.MaxVelocityFraction is < 0 or double.NaN)
            throw new ArgumentOutOfRangeException(nameof(options), "The velocity clamp must be at least 0.");
        Options = options;
    }

    /// <summary>The settings.</summary>
    public PsoOptions Options { get; }

    /// <summary>Searches for the structure of highest fitness within budget, starting around <paramref name="start"/>.</summary>
    /// <param name="start">Kept widths per dimension to start from (the clustering result).</param>
    /// <param name="upperBounds">Original widths per dimension.</param>
    /// <param name="fitness">Fitness of a structure, higher is better; NaN counts as −∞. Receives a copy.</param>
    /// <param name="withinBudget">Whether a structure meets the budget (e.g. MACs); receives a copy.</param>
    /// <param name="progress">Receives one <see cref="PsoCycle"/> per cycle, the initial population first.</param>
    /// <param name="cancellationToken">Checked before every fitness evaluation.</param>
    /// <exception cref="OperationCanceledException">The search was cancelled.</exception>
    public PsoResult Run(int[] start, int[] upperBounds, Func<int[], double> fitness, Func<int[], bool> withinBudget,
        IProgress<PsoCycle>? progress = null, CancellationToken cancellationToken = default) =>
        Run(start, [], upperBounds, fitness, withinBudget, progress, cancellationToken);

    /// <summary>
    /// As <see cref="Run(int[], int[], Func{int[], double}, Func{int[], bool}, IProgress{PsoCycle}?, CancellationToken)"/>,
    /// with further known structures placed in the initial population: they take the places of its last particles
    /// (the ones drawn farthest from <paramref name="start"/>), after rounding.
    /// </summary>
    /// <param name="start">Kept widths per dimension to start from (the clustering result).</param>
    /// <param name="alsoStartAt">Further structures of the initial population (at most particles − 1).</param>
    /// <param name="upperBounds">Original widths per dimension.</param>
    /// <param name="fitness">Fitness of a structure, higher is better; NaN counts as −∞. Receives a copy.</param>
    /// <param name="withinBudget">Whether a structure meets the budget (e.g. MACs); receives a copy.</param>
    /// <param name="progress">Receives one <see cref="PsoCycle"/> per cycle, the initial population first.</param>
    /// <param name="cancellationToken">Checked before every fitness evaluation.</param>
    /// <param name="repairStep">
    /// Which dimension the repair shrinks next by one rounding step, given a copy of the over-budget structure (−1 when
    /// none can shrink); null = the relatively widest, as described on the class.
    /// </param>
    /// <exception cref="ArgumentException">More extra structures than particles − 1, or one of the wrong length.</exception>
    /// <exception cref="OperationCanceledException">The search was cancelled.</exception>
    public PsoResult Run(int[] start, IReadOnlyList<int[]> alsoStartAt, int[] upperBounds, Func<int[], double> fitness, Func<int[], bool> withinBudget,
        IProgress<PsoCycle>? progress = null, CancellationToken cancellationToken = default, Func<int[], int>? repairStep = null)
    {
        StructureRounding.Validate(start, upperBounds, Options.RoundTo);
        ArgumentNullException.ThrowIfNull(alsoStartAt);
        if (alsoStartAt.Count > Options.Particles - 1)
            throw new ArgumentException($"{alsoStartAt.Count} extra starting structures do not fit beside the start in {Options.Particles} particles.", nameof(alsoStartAt));
        if (alsoStartAt.Any(s => s.Length != start.Length))
            throw new ArgumentException($"Every extra starting structure needs {start.Length} widths.", nameof(alsoStartAt));
        ArgumentNullException.ThrowIfNull(fitness);
        ArgumentNullException.ThrowIfNull(withinBudget);
        var o = Options;
        var dims = start.Length;
        // The population and the moves draw from different streams, so changing one does not shift the other.
        var random = new SearchRandom(o.Seed ^ 0x5DEECE66DUL);
        var vmax = new double[dims];
        for (var d = 0; d < dims; d++) vmax[d] = o.MaxVelocityFraction is { } f ? Math.Max(1, f * upperBounds[d]) : o.MaxVelocity;

        var cache = new Dictionary<int[], double>(StructureComparer.Instance);
        double Evaluate(int[] x)
        {
            if (!Repair(x, withinBudget, repairStep ?? (w => RelativelyWidest(w, upperBounds, o.RoundTo)), upperBounds, o.RoundTo)) return double.NegativeInfinity;
            if (cache.TryGetValue(x, out var cached)) return cached;
            cancellationToken.ThrowIfCancellationRequested();
            var value = fitness((int[])x.Clone());
            if (double.IsNaN(value)) value = double.NegativeInfinity;
            cache[(int[])x.Clone()] = value;
            return value;
        }

        var x = Population.AroundClustering(start, upperBounds, o.Particles, o.RoundTo, o.Seed);
        for (var k = 0; k < alsoStartAt.Count; k++)
        {
            x[o.Particles - alsoStartAt.Count + k] = alsoStartAt[k].Select((w, d) => StructureRounding.Round(w, upperBounds[d], o.RoundTo)).ToArray();
        }
        var v = new double[o.Particles][];
        var fx = new double[o.Particles];
        var pbest = new int[o.Particles][];
        var fpbest = new double[o.Particles];
        var gbest = x[0];
        var fgbest = double.NegativeInfinity;
        for (var i = 0; i < o.Particles; i++)
        {
            v[i] = new double[dims];
            for (var d = 0; d < dims; d++) v[i][d] = (2 * random.NextDouble() - 1) * vmax[d];
            fx[i] = Evaluate(x[i]);
            pbest[i] = (int[])x[i].Clone();
            fpbest[i] = fx[i];
            if (i == 0 || fx[i] > fgbest) (gbest, fgbest) = ((int[])x[i].Clone(), fx[i]);
        }
        var history = new List<PsoCycle>();
        Report(0);

        for (var t = 0; t < o.Cycles; t++)
        {
            var inertia = o.Cycles == 1 ? o.InertiaStart : o.InertiaStart + (o.InertiaEnd - o.InertiaStart) * t / (o.Cycles - 1);
            for (var i = 0; i < o.Particles; i++)
            {
                if (o.Variant == PsoVariant.Standard) MoveStandard(x[i], v[i], pbest[i], gbest, inertia);
                else MovePaperCode(x[i], v[i], pbest[i], gbest, inertia);
                fx[i] = Evaluate(x[i]);
                if (fx[i] > fpbest[i]) (pbest[i], fpbest[i]) = ((int[])x[i].Clone(), fx[i]);
                if (fx[i] > fgbest) (gbest, fgbest) = ((int[])x[i].Clone(), fx[i]);
            }
            Report(t + 1);
        }
        return new PsoResult((int[])gbest.Clone(), fgbest, history, cache.Count);

        void Report(int cycle)
        {
            var feasible = fx.Where(double.IsFinite).ToArray();
            var entry = new PsoCycle(cycle, fgbest, feasible.Length == 0 ? double.NaN : feasible.Average());
            history.Add(entry);
            progress?.Report(entry);
        }

        void MoveStandard(int[] xi, double[] vi, int[] pb, int[] gb, double w)
        {
            for (var d = 0; d < dims; d++)
            {
                double r1 = random.NextDouble(), r2 = random.NextDouble();
                var nv = o.Constriction * (w * vi[d] + o.C1 * r1 * (pb[d] - xi[d]) + o.C2 * r2 * (gb[d] - xi[d]));
                vi[d] = Math.Clamp(nv, -vmax[d], vmax[d]);
                var moved = xi[d] + vi[d];
                xi[d] = StructureRounding.Round(moved, upperBounds[d], o.RoundTo);
                // Absorbing walls: a particle that hit a bound stops there instead of pressing on with its old
                // velocity, which would otherwise pin it to the bound for cycles.
                if (moved < 1 || moved > upperBounds[d]) vi[d] = 0;
            }
        }

        void MovePaperCode(int[] xi, double[] vi, int[] pb, int[] gb, double w)
        {
            var shared = random.NextDouble();
            var old = (int[])xi.Clone();
            // The code draws from {0..D-2}: the last layer never moves. A one-dimensional structure moves its only one.
            var movable = Math.Max(1, dims - 1);
            for (var k = 0; k < o.PaperChangedDimensions; k++)
            {
                var d = random.NextInt(movable);
                // Truncation as in the code; the code's "above the bound goes to C−1" quirk is replaced by clipping.
                xi[d] = StructureRounding.Round(Math.Truncate(old[d] + o.PaperStepGain * vi[d]), upperBounds[d], o.RoundTo);
            }
            for (var d = 0; d < Math.Min(o.PaperChangedDimensions, dims); d++)
            {
                var nv = o.Constriction * (w * vi[d] + o.C1 * shared * (pb[d] - old[d]) + o.C2 * shared * (gb[d] - old[d]));
                vi[d] = Math.Clamp(nv, -vmax[d], vmax[d]);
            }
        }
    }

    /// <summary>Shrinks <paramref name="x"/> in place until it is within budget; false if that is impossible.</summary>
    private static bool Repair(int[] x, Func<int[], bool> withinBudget, Func<int[], int> pick, int[] upperBounds, int roundTo)
    {
        while (!withinBudget((int[])x.Clone()))
        {
            var d = pick((int[])x.Clone());
            if (d < 0) return false;
            var down = StructureRounding.StepDown(x[d], upperBounds[d], roundTo);
            // A picker that names a dimension already at its smallest width would loop forever; stop instead.
            if (down == x[d]) return false;
            x[d] = down;
        }
        return true;
    }

    /// <summary>
    /// The default repair's choice: the widest layer relative to its original width gives up a step first, so the
    /// repair spreads the cut instead of emptying one layer (the lowest index on ties; −1 when none can shrink).
    /// </summary>
    private static int RelativelyWidest(int[] x, int[] upperBounds, int roundTo)
    {
        var pick = -1;
        var widest = double.NegativeInfinity;
        for (var d = 0; d < x.Length; d++)
        {
            if (StructureRounding.StepDown(x[d], upperBounds[d], roundTo) == x[d]) continue;
            var relative = (double)x[d] / upperBounds[d];
            if (relative > widest) (pick, widest) = (d, relative);
        }
        return pick;
    }
}
