using Acp.Pruning.Search;

namespace Acp.Pruning.Tests.Search;

public class PopulationTests
{
    [Fact]
    public void FollowsThePapersRuleAwayFromTheBounds()
    {
        int[] start = [40, 50, 60, 70, 80, 90];
        int[] upper = [200, 200, 200, 200, 200, 200];
        for (ulong seed = 0; seed < 50; seed++)
        {
            var population = Population.AroundClustering(start, upper, 10, 1, seed);
            Assert.Equal(10, population.Length);
            Assert.Equal(start, population[0]);
            for (var i = 1; i < population.Length; i++)
                for (var d = 0; d < start.Length; d++)
                    Assert.Contains(Math.Abs(population[i][d] - start[d]), new[] { 0, i });
        }
    }

    [Fact]
    public void UsesAllThreeMoves()
    {
        int[] start = Enumerable.Repeat(50, 40).ToArray();
        var population = Population.AroundClustering(start, Enumerable.Repeat(100, 40).ToArray(), 4, 1, 1);
        var moves = population[3].Select((x, d) => x - start[d]).ToHashSet();
        Assert.Equal(new HashSet<int> { -3, 0, 3 }, moves);
    }

    [Fact]
    public void ClipsAndRounds()
    {
        int[] start = [1, 2, 30, 64, 20];
        int[] upper = [4, 64, 64, 64, 20];
        for (ulong seed = 0; seed < 50; seed++)
        {
            var population = Population.AroundClustering(start, upper, 10, 8, seed);
            foreach (var x in population)
                for (var d = 0; d < x.Length; d++)
                {
                    Assert.InRange(x[d], Math.Min(8, upper[d]), upper[d]);
                    Assert.True(x[d] % 8 == 0 || x[d] == upper[d]);
                }
            // Particle 0 is the start, rounded: 1 → 4 (bound below one multiple), 2 → 8, 30 → 32, 64, 20 stays.
            Assert.Equal([4, 8, 32, 64, 20], population[0]);
        }
    }

    [Fact]
    public void IsDeterministicForASeed()
    {
        int[] start = [10, 20, 30];
        int[] upper = [64, 64, 64];
        Assert.Equal(Population.AroundClustering(start, upper, 10, 1, 42), Population.AroundClustering(start, upper, 10, 1, 42));
        Assert.NotEqual(Population.AroundClustering(start, upper, 10, 1, 42), Population.AroundClustering(start, upper, 10, 1, 43));
    }
}
