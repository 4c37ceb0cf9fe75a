namespace Acp.Data;

/// <summary>
/// SplitMix64: a tiny, fast generator whose output is fixed by this code alone. Used instead of
/// <see cref="System.Random"/> because .NET documents that Random's sequence for a seed may change between
/// versions, and shuffles, splits and augmentations must be reproducible from a seed forever (a saved split must mean
/// the same images next year). Streams are derived by hashing (seed, purpose, epoch, position), so each image's
/// augmentation does not depend on the order images are processed in.
/// </summary>
internal struct DeterministicRandom
{
    private const ulong Golden = 0x9E3779B97F4A7C15UL;
    private ulong _state;

    /// <summary>A generator whose stream is fixed by <paramref name="state"/>.</summary>
    public DeterministicRandom(ulong state) => _state = state;

    /// <summary>A generator for one (seed, purpose, a, b) combination: independent-looking streams per combination.</summary>
    public static DeterministicRandom For(int seed, ulong purpose, long a = 0, long b = 0) =>
        new(Hash(Hash(Hash((ulong)(uint)seed, purpose), (ulong)a), (ulong)b));

    /// <summary>Mixes <paramref name="value"/> into <paramref name="h"/> (SplitMix64's finaliser, which avalanches).</summary>
    public static ulong Hash(ulong h, ulong value) => Finalise(h ^ Finalise(value + Golden));

    private static ulong Finalise(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        _state += Golden;
        return Finalise(_state);
    }

    /// <summary>
    /// A uniform integer in 0..<paramref name="maxExclusive"/>−1, without the modulo bias of <c>next % n</c>
    /// (Lemire's multiply-and-reject).
    /// </summary>
    public int NextInt(int maxExclusive)
    {
        if (maxExclusive <= 0) throw new ArgumentOutOfRangeException(nameof(maxExclusive), maxExclusive, "Must be positive.");
        var n = (ulong)maxExclusive;
        var high = Math.BigMul(NextUInt64(), n, out var low);
        if (low < n)
        {
            var threshold = (0UL - n) % n;
            while (low < threshold)
            {
                high = Math.BigMul(NextUInt64(), n, out low);
            }
        }
        return (int)high;
    }

    /// <summary>A fair coin.</summary>
    public bool NextBool() => (NextUInt64() >> 63) != 0;

    /// <summary>Fisher–Yates shuffle of <paramref name="items"/> in place.</summary>
    public void Shuffle(Span<int> items)
    {
        for (var i = items.Length - 1; i > 0; i--)
        {
            var j = NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}

/// <summary>Purpose tags that keep the random streams of different uses apart for the same user seed.</summary>
internal static class RandomPurpose
{
    public const ulong DatasetShuffle = 1;
    public const ulong ValidationSplit = 2;
    public const ulong EpochOrder = 3;
    public const ulong Augmentation = 4;
}
