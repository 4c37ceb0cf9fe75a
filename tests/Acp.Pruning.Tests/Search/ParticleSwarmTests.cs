using Acp.Pruning.Search;

namespace Acp.Pruning.Tests.Search;

public class ParticleSwarmTests
{
    private sealed class ListProgress : IProgress<PsoCycle>
    {
        public List<PsoCycle> Items { get; } = [];
        public void Report(PsoCycle value) => Items.Add(value);
    }

    private static double Sphere(int[] x, int[] target)
    {
        double sum = 0;
        for (var d = 0; d < x.Length; d++) sum -= (double)(x[d] - target[d]) * (x[d] - target[d]);
        return sum;
    }

    private static (int[] Start, int[] Upper, int[] Target) Problem(int dims, int upper, int roundTo, ulong seed)
    {
        var random = new Random((int)seed); // test data only; the search itself never uses System.Random
        var ups = Enumerable.Range(0, dims).Select(_ => upper).ToArray();
        // Targets inside the bounds, at least one step from each wall: an integer swarm that has collapsed onto a
        // wall has no velocity left to come back with, which is a property of PSO, not what these tests probe.
        var target = ups.Select(u => roundTo * random.Next(2, u / roundTo)).ToArray();
        var start = ups.Select(u => u / 2 / roundTo * roundTo).ToArray();
        return (start, ups, target);
    }

    [Theory]
    [InlineData(5, 1, 1UL)]
    [InlineData(8, 1, 2UL)]
    [InlineData(10, 1, 3UL)]
    [InlineData(6, 8, 4UL)]
    public void FindsTheOptimumOfASphere(int dims, int roundTo, ulong seed)
    {
        var (start, upper, target) = Problem(dims, 64, roundTo, seed);
        var swarm = new ParticleSwarm(new PsoOptions { Particles = 30, Cycles = 60, RoundTo = roundTo, Seed = seed,
            // With rounding to 8 a step must reach past half a multiple to move at all.
            MaxVelocityFraction = roundTo == 1 ? 0.1 : 0.25 });
        var result = swarm.Run(start, upper, x => Sphere(x, target), _ => true);
        Assert.Equal(target, result.BestStructure);
        Assert.Equal(0, result.BestFitness);
        Assert.Equal(61, result.History.Count);
        // The swarm's best never gets worse.
        for (var c = 1; c < result.History.Count; c++) Assert.True(result.History[c].BestFitness >= result.History[c - 1].BestFitness);
    }

    [Fact]
    public void UsuallyHitsTheOptimumAndAlwaysGetsClose()
    {
        // Integer PSO with constriction can stagnate: once x = pbest = gbest in a dimension its velocity decays
        // to zero and rounding keeps it there. So over many random problems we ask for most runs exact and all close.
        var exact = 0;
        for (ulong seed = 1; seed <= 40; seed++)
        {
            var (start, upper, target) = Problem(5 + (int)(seed % 6), 64, 1, seed);
            var result = new ParticleSwarm(new PsoOptions { Particles = 30, Cycles = 60, Seed = seed, MaxVelocityFraction = 0.1 })
                .Run(start, upper, x => Sphere(x, target), _ => true);
            if (result.BestFitness == 0) exact++;
            Assert.True(result.BestFitness >= -30, $"seed {seed}: {result.BestFitness}");
            Assert.True(result.BestFitness >= 0.05 * Sphere(start, target), $"seed {seed}: less than 95% of the distance closed");
        }
        Assert.True(exact >= 24, $"only {exact}/40 runs found the exact optimum");
    }

    [Theory]
    [InlineData(PsoVariant.Standard)]
    [InlineData(PsoVariant.PaperCode)]
    public void EveryEvaluatedCandidateIsInBoundsRoundedAndWithinBudget(PsoVariant variant)
    {
        for (ulong seed = 0; seed < 60; seed++)
        {
            var random = new Random((int)seed);
            var dims = random.Next(1, 10);
            var roundTo = new[] { 1, 4, 8 }[random.Next(3)];
            var upper = Enumerable.Range(0, dims).Select(_ => random.Next(1, 70)).ToArray();
            var start = upper.Select(u => random.Next(-5, u + 6)).ToArray(); // even out-of-bounds starts get clipped
            var budget = upper.Sum() * random.NextDouble();
            var target = upper.Select(u => random.Next(1, u + 1)).ToArray();
            bool WithinBudget(int[] x) => x.Sum() <= budget;
            var evaluated = 0;
            var options = new PsoOptions { Particles = 6, Cycles = 10, RoundTo = roundTo, Seed = seed, Variant = variant, MaxVelocityFraction = seed % 2 == 0 ? 0.3 : null };
            var result = new ParticleSwarm(options).Run(start, upper, x =>
            {
                evaluated++;
                Assert.Equal(dims, x.Length);
                for (var d = 0; d < dims; d++)
                {
                    Assert.InRange(x[d], 1, upper[d]);
                    Assert.True(x[d] % roundTo == 0 || x[d] == upper[d], $"{x[d]} is neither a multiple of {roundTo} nor the bound {upper[d]}");
                    Assert.True(x[d] >= Math.Min(roundTo, upper[d]));
                }
                Assert.True(WithinBudget(x), "a candidate over budget reached the fitness");
                return Sphere(x, target);
            }, WithinBudget);
            Assert.Equal(evaluated, result.Evaluations);
            if (double.IsFinite(result.BestFitness)) Assert.True(WithinBudget(result.BestStructure));
            else Assert.Equal(0, evaluated); // −∞ only when nothing could be repaired
        }
    }

    [Fact]
    public void RepairShrinksTheRelativelyWidestLayerFirstAndKeepsTheRestOfTheStructure()
    {
        // Fitness rewards width, so everything presses against the budget; the repair must keep it feasible.
        int[] upper = [64, 32, 16];
        var evaluated = new List<int[]>();
        var result = new ParticleSwarm(new PsoOptions { RoundTo = 8, Seed = 7, Cycles = 20, MaxVelocityFraction = 0.5 })
            .Run([64, 32, 16], upper, x => { evaluated.Add(x); return x.Sum(); }, x => x.Sum() <= 80);
        Assert.All(evaluated, x => Assert.True(x.Sum() <= 80));
        // The start (112 channels) is repaired by trimming the relatively widest layer first: ties at 1.0 go to the
        // lowest index, so 64 → 56, then 32 (1.0) → 24, then 16 (1.0) → 8, then 56/64 → 48: [48, 24, 8] = 80.
        Assert.Equal([48, 24, 8], evaluated[0]);
        Assert.Equal(80, result.BestFitness);
    }

    [Fact]
    public void AnUnrepairableSearchReportsMinusInfinityWithoutEvaluating()
    {
        var result = new ParticleSwarm(new PsoOptions { Cycles = 3 }).Run([5, 5], [10, 10], _ => throw new InvalidOperationException("evaluated"), x => x.Sum() < 2);
        Assert.Equal(double.NegativeInfinity, result.BestFitness);
        Assert.Equal(0, result.Evaluations);
        Assert.All(result.History, h => Assert.True(double.IsNaN(h.MeanFitness)));
    }

    [Fact]
    public void EachDistinctStructureIsEvaluatedOnce()
    {
        var (start, upper, target) = Problem(4, 16, 1, 9);
        var seen = new HashSet<string>();
        var calls = 0;
        // A narrow space and many cycles force revisits, which the cache must absorb.
        var result = new ParticleSwarm(new PsoOptions { Particles = 10, Cycles = 50, Seed = 9 }).Run(start, upper, x =>
        {
            calls++;
            Assert.True(seen.Add(string.Join(",", x)), $"{string.Join(",", x)} evaluated twice");
            return Sphere(x, target);
        }, _ => true);
        Assert.Equal(calls, result.Evaluations);
        Assert.True(calls < 10 * 51, "the run should have revisited some structures");
    }

    [Theory]
    [InlineData(PsoVariant.Standard)]
    [InlineData(PsoVariant.PaperCode)]
    public void TheSameSeedGivesTheSameRunAndAnotherSeedAnotherTrajectory(PsoVariant variant)
    {
        var (start, upper, target) = Problem(8, 64, 1, 5);
        (PsoResult Result, List<string> Trajectory, List<PsoCycle> Progress) Run(ulong seed)
        {
            var trajectory = new List<string>();
            var progress = new ListProgress();
            var result = new ParticleSwarm(new PsoOptions { Seed = seed, Variant = variant, MaxVelocityFraction = 0.2 })
                .Run(start, upper, x => { trajectory.Add(string.Join(",", x)); return Sphere(x, target); }, _ => true, progress);
            return (result, trajectory, progress.Items);
        }
        var a = Run(11);
        var b = Run(11);
        var c = Run(12);
        Assert.Equal(a.Result.BestStructure, b.Result.BestStructure);
        Assert.Equal(a.Result.BestFitness, b.Result.BestFitness);
        Assert.Equal(a.Result.History, b.Result.History);
        Assert.Equal(a.Result.Evaluations, b.Result.Evaluations);
        Assert.Equal(a.Trajectory, b.Trajectory);
        Assert.Equal(a.Result.History, a.Progress); // progress reports exactly the history
        Assert.NotEqual(a.Trajectory, c.Trajectory);
    }

    [Fact]
    public void CancellationStopsTheSearch()
    {
        var (start, upper, target) = Problem(6, 64, 1, 3);
        using var cancel = new CancellationTokenSource();
        var calls = 0;
        Assert.ThrowsAny<OperationCanceledException>(() => new ParticleSwarm(new PsoOptions { Cycles = 100, MaxVelocityFraction = 0.2 }).Run(start, upper, x =>
        {
            if (++calls == 15) cancel.Cancel();
            return Sphere(x, target);
        }, _ => true, cancellationToken: cancel.Token));
        Assert.Equal(15, calls);
    }

    [Fact]
    public void PaperCodeVariantImprovesOnTheStart()
    {
        var (start, upper, target) = Problem(8, 64, 1, 6);
        var result = new ParticleSwarm(new PsoOptions { Variant = PsoVariant.PaperCode, Cycles = 40, Seed = 6 })
            .Run(start, upper, x => Sphere(x, target), _ => true);
        Assert.True(result.BestFitness > Sphere(start, target));
        Assert.True(result.History[^1].BestFitness >= result.History[0].BestFitness);
    }

    [Fact]
    public void ExtraStartingStructuresTakeTheLastPlacesOfTheInitialPopulation()
    {
        int[] start = [32, 32, 32];
        int[] upper = [64, 64, 64];
        int[] known = [60, 8, 17];
        var evaluated = new List<string>();
        new ParticleSwarm(new PsoOptions { Particles = 5, Cycles = 0, RoundTo = 8, Seed = 2 })
            .Run(start, [known], upper, x => { evaluated.Add(string.Join(",", x)); return 0; }, _ => true);
        var population = Population.AroundClustering(start, upper, 5, 8, 2);
        // The fifth particle is the known structure (rounded to 8); the first four are the usual population.
        Assert.Equal(population.Take(4).Select(p => string.Join(",", p)).Append("64,8,16").Distinct(), evaluated);
    }

    [Fact]
    public void ExtraStartingStructuresMustFitBesideTheStart()
    {
        var swarm = new ParticleSwarm(new PsoOptions { Particles = 2 });
        Assert.Throws<ArgumentException>(() => swarm.Run([8, 8], [[8, 8], [16, 16]], [16, 16], _ => 0, _ => true));
        Assert.Throws<ArgumentException>(() => swarm.Run([8, 8], [[8]], [16, 16], _ => 0, _ => true));
    }

    [Fact]
    public void ACustomRepairStepDecidesWhichLayerShrinks()
    {
        // The default would trim the relatively widest layer first ([48, 24, 8] in the test above); this repair
        // always trims the last layer that can still shrink.
        int[] upper = [64, 32, 16];
        var evaluated = new List<int[]>();
        new ParticleSwarm(new PsoOptions { RoundTo = 8, Seed = 7, Cycles = 0, Particles = 1 })
            .Run([64, 32, 16], [], upper, x => { evaluated.Add(x); return x.Sum(); }, x => x.Sum() <= 88, repairStep: x => Array.FindLastIndex(x, w => w > 8));
        Assert.Equal([64, 16, 8], evaluated.Single());
    }
}
