namespace Acp.Data;

/// <summary>Subsets, seeded shuffles, held-out validation splits and label statistics of any <see cref="IImageDataset"/>.</summary>
/// <remarks>
/// Everything random here is driven by an explicit seed through a generator defined in this library (not
/// <see cref="System.Random"/>, whose sequences .NET may change), so a seed names the same split on every machine and
/// every .NET version.
/// </remarks>
public static class DatasetExtensions
{
    /// <summary>The images at <paramref name="indices"/>, in that order.</summary>
    public static DatasetSubset Subset(this IImageDataset dataset, IEnumerable<int> indices) => new(dataset, indices);

    /// <summary>The first <paramref name="count"/> images (all of them when there are fewer).</summary>
    public static DatasetSubset Take(this IImageDataset dataset, int count)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var n = Math.Min(count, dataset.Count);
        var indices = new int[n];
        for (var i = 0; i < n; i++) indices[i] = i;
        return new DatasetSubset(dataset, indices, validate: false);
    }

    /// <summary>All images in an order fixed by <paramref name="seed"/>.</summary>
    public static DatasetSubset Shuffle(this IImageDataset dataset, int seed)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        var indices = new int[dataset.Count];
        for (var i = 0; i < indices.Length; i++) indices[i] = i;
        DeterministicRandom.For(seed, RandomPurpose.DatasetShuffle).Shuffle(indices);
        return new DatasetSubset(dataset, indices, validate: false);
    }

    /// <summary>
    /// Holds out round(<paramref name="validationFraction"/> × Count) images for validation; see
    /// <see cref="TrainValidationSplit(IImageDataset, int, int, bool)"/>.
    /// </summary>
    public static (DatasetSubset Train, DatasetSubset Validation) TrainValidationSplit(this IImageDataset dataset, double validationFraction, int seed, bool stratified = true)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        if (!(validationFraction >= 0 && validationFraction <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(validationFraction), validationFraction, "The validation fraction must be in [0, 1].");
        }
        var count = (int)Math.Round(validationFraction * dataset.Count, MidpointRounding.AwayFromZero);
        return dataset.TrainValidationSplit(count, seed, stratified);
    }

    /// <summary>
    /// Splits the data set into disjoint training and validation views that together cover every image once: the
    /// validation set used to choose pruned architectures must not be trained on, or the choice is biased.
    /// </summary>
    /// <param name="dataset">The training split of a data set.</param>
    /// <param name="validationCount">Images to hold out.</param>
    /// <param name="seed">Which images: the same seed gives the same split.</param>
    /// <param name="stratified">
    /// Hold out the same fraction of every class (up to rounding; the counts per class are apportioned by largest
    /// remainder so they sum to exactly <paramref name="validationCount"/>), so a small validation set keeps the
    /// class balance. Otherwise the images are drawn uniformly.
    /// </param>
    /// <returns>Both views with indices in increasing order (ordering for training is the loader's job).</returns>
    public static (DatasetSubset Train, DatasetSubset Validation) TrainValidationSplit(this IImageDataset dataset, int validationCount, int seed, bool stratified = true)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        var n = dataset.Count;
        if (validationCount < 0 || validationCount > n)
        {
            throw new ArgumentOutOfRangeException(nameof(validationCount), validationCount, $"The validation count must be in 0..{n}.");
        }
        var random = DeterministicRandom.For(seed, RandomPurpose.ValidationSplit, stratified ? 1 : 0);
        var inValidation = new bool[n];
        if (stratified)
        {
            var byClass = IndicesByClass(dataset);
            var quotas = Apportion(byClass.Select(c => c.Count).ToArray(), validationCount, n);
            for (var c = 0; c < byClass.Length; c++)
            {
                var members = byClass[c].ToArray();
                random.Shuffle(members);
                for (var i = 0; i < quotas[c]; i++) inValidation[members[i]] = true;
            }
        }
        else
        {
            var all = new int[n];
            for (var i = 0; i < n; i++) all[i] = i;
            random.Shuffle(all);
            for (var i = 0; i < validationCount; i++) inValidation[all[i]] = true;
        }
        var train = new int[n - validationCount];
        var validation = new int[validationCount];
        int t = 0, v = 0;
        for (var i = 0; i < n; i++)
        {
            if (inValidation[i]) validation[v++] = i;
            else train[t++] = i;
        }
        return (new DatasetSubset(dataset, train, validate: false), new DatasetSubset(dataset, validation, validate: false));
    }

    /// <summary>How many images each class has: element c is the count of label c.</summary>
    /// <exception cref="DatasetException">A label is outside 0..ClassCount−1.</exception>
    public static int[] LabelHistogram(this IImageDataset dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        var histogram = new int[dataset.ClassCount];
        for (var i = 0; i < dataset.Count; i++) histogram[CheckedLabel(dataset, i)]++;
        return histogram;
    }

    /// <summary>The label of image <paramref name="index"/>, checked against the class count.</summary>
    internal static int CheckedLabel(IImageDataset dataset, int index)
    {
        var label = dataset.Label(index);
        if ((uint)label >= (uint)dataset.ClassCount)
        {
            throw new DatasetException(null, $"image {index} of {dataset} has label {label}, outside its {dataset.ClassCount} classes.");
        }
        return label;
    }

    private static List<int>[] IndicesByClass(IImageDataset dataset)
    {
        var byClass = new List<int>[dataset.ClassCount];
        for (var c = 0; c < byClass.Length; c++) byClass[c] = [];
        for (var i = 0; i < dataset.Count; i++) byClass[CheckedLabel(dataset, i)].Add(i);
        return byClass;
    }

    /// <summary>
    /// Splits <paramref name="total"/> among classes in proportion to their sizes: floors first, then one more to the
    /// classes with the largest remainders (ties to the lower class), so the sum is exact and deterministic.
    /// </summary>
    private static int[] Apportion(int[] sizes, int total, int population)
    {
        var quotas = new int[sizes.Length];
        if (population == 0) return quotas;
        var remainders = new long[sizes.Length];
        var assigned = 0;
        for (var c = 0; c < sizes.Length; c++)
        {
            var exact = (long)sizes[c] * total;
            quotas[c] = (int)(exact / population);
            remainders[c] = exact % population;
            assigned += quotas[c];
        }
        var order = Enumerable.Range(0, sizes.Length).OrderByDescending(c => remainders[c]).ThenBy(c => c).ToArray();
        for (var k = 0; assigned < total; k++)
        {
            var c = order[k % order.Length];
            if (quotas[c] < sizes[c])
            {
                quotas[c]++;
                assigned++;
            }
        }
        return quotas;
    }
}
