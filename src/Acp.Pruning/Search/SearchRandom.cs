namespace Acp.Pruning.Search;

/// <summary>
/// SplitMix64: a tiny seeded generator whose sequence is fixed by its definition, so a search with the same seed
/// gives the same trajectory on every .NET version (System.Random's algorithm is an implementation detail).
/// </summary>
internal sealed class SearchRandom(ulong seed)
{
    private ulong _state = seed;

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1), from the top 53 bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [0, <paramref name="n"/>), by Lemire's multiply-high (no modulo bias worth mentioning).</summary>
    public int NextInt(int n) => (int)Math.BigMul(NextUInt64(), (ulong)n, out _);
}
