namespace Acp.Pruning.Search;

/// <summary>The initial swarm of ACP's search (the paper's step (c)).</summary>
public static class Population
{
    /// <summary>
    /// The paper's initialisation around the clustering result: particle <c>i</c> moves every dimension by
    /// <c>−i</c>, <c>0</c> or <c>+i</c> (chosen uniformly), clipped to [1, upper]; particle 0 is exactly
    /// <paramref name="start"/>. Every value is then rounded to a multiple of <paramref name="roundTo"/> (never below
    /// min(roundTo, upper), never above upper), so an aligned <paramref name="start"/> is particle 0 unchanged.
    /// </summary>
    /// <param name="start">Kept widths per layer from clustering.</param>
    /// <param name="upperBounds">Original widths per layer (the largest allowed values).</param>
    /// <param name="particles">Number of particles, at least 1.</param>
    /// <param name="roundTo">Widths are rounded to a multiple of this (1 for no rounding).</param>
    /// <param name="seed">The seed; the same seed gives the same population.</param>
    /// <returns>One new array per particle.</returns>
    public static int[][] AroundClustering(int[] start, int[] upperBounds, int particles, int roundTo, ulong seed)
    {
        StructureRounding.Validate(start, upperBounds, roundTo);
        ArgumentOutOfRangeException.ThrowIfLessThan(particles, 1);
        var random = new SearchRandom(seed);
        var population = new int[particles][];
        for (var i = 0; i < particles; i++)
        {
            var x = new int[start.Length];
            for (var d = 0; d < x.Length; d++)
            {
                // Particle 0 draws nothing: it is the clustering result itself.
                var shift = i == 0 ? 0 : (random.NextInt(3) - 1) * i;
                x[d] = StructureRounding.Round((double)start[d] + shift, upperBounds[d], roundTo);
            }
            population[i] = x;
        }
        return population;
    }
}
