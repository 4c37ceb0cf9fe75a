using Acp.Data;

namespace Acp.Engine.Tests.Data;

/// <summary>Subsets, seeded shuffles and held-out validation splits.</summary>
public sealed class SplitTests
{
    // Unbalanced classes: 50, 30, 20, 3 images.
    private static readonly InMemoryImageDataset Unbalanced = DataFiles.Synthetic(103, new ImageShape(1, 2, 2), 4, i => i < 50 ? 0 : i < 80 ? 1 : i < 100 ? 2 : 3);

    [Theory]
    [InlineData(true, 0.2, 21)]
    [InlineData(false, 0.2, 21)]
    [InlineData(true, 0.0, 0)]
    [InlineData(true, 1.0, 103)]
    [InlineData(false, 0.5, 52)]
    public void Validation_split_is_disjoint_and_covering(bool stratified, double fraction, int expectedValidation)
    {
        var (train, validation) = Unbalanced.TrainValidationSplit(fraction, seed: 3, stratified);

        Assert.Equal(expectedValidation, validation.Count);
        Assert.Empty(train.Indices.Intersect(validation.Indices));
        Assert.Equal(Enumerable.Range(0, 103), train.Indices.Concat(validation.Indices).Order());
        Assert.Equal(train.Indices.Order(), train.Indices);
        Assert.Equal(validation.Indices.Order(), validation.Indices);
        Assert.Same(Unbalanced, train.Source);
        Assert.Equal(Unbalanced.ClassCount, validation.ClassCount);
    }

    [Fact]
    public void Stratified_split_holds_out_each_class_in_proportion()
    {
        var (_, validation) = Unbalanced.TrainValidationSplit(validationCount: 21, seed: 11);

        // 21/103 of 50, 30, 20, 3 = 10.19, 6.12, 4.08, 0.61: floors 10, 6, 4, 0 and the one left goes to the largest
        // remainder (class 3).
        Assert.Equal([10, 6, 4, 1], validation.LabelHistogram());
    }

    [Fact]
    public void Same_seed_same_split_other_seed_other_split()
    {
        foreach (var stratified in new[] { true, false })
        {
            var a = Unbalanced.TrainValidationSplit(30, seed: 5, stratified).Validation.Indices;
            var b = Unbalanced.TrainValidationSplit(30, seed: 5, stratified).Validation.Indices;
            var c = Unbalanced.TrainValidationSplit(30, seed: 6, stratified).Validation.Indices;
            Assert.Equal(a, b);
            Assert.NotEqual(a, c);
        }
    }

    [Fact]
    public void Split_arguments_are_checked()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Unbalanced.TrainValidationSplit(1.5, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Unbalanced.TrainValidationSplit(double.NaN, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Unbalanced.TrainValidationSplit(104, 0));
    }

    [Fact]
    public void Subset_reads_through_to_the_source_in_the_given_order()
    {
        var subset = Unbalanced.Subset([5, 100, 5, 0]);

        Assert.Equal(4, subset.Count);
        Assert.Equal([0, 3, 0, 0], DataFiles.AllLabels(subset));
        var expected = new byte[4];
        var actual = new byte[4];
        Unbalanced.ReadImage(100, expected);
        subset.ReadImage(1, actual);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Subset_of_subset_refers_to_the_source()
    {
        var inner = Unbalanced.Subset([10, 20, 30, 40]);
        var outer = inner.Subset([3, 1]);

        Assert.Same(Unbalanced, outer.Source);
        Assert.Equal([40, 20], outer.Indices);
        Assert.Equal([10, 20, 30, 40], inner.Indices);
    }

    [Fact]
    public void Subset_rejects_indices_outside_the_source()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Unbalanced.Subset([0, 103]));
        Assert.Contains("103", e.Message);
    }

    [Fact]
    public void Shuffle_is_a_seeded_permutation()
    {
        var a = Unbalanced.Shuffle(1);
        var b = Unbalanced.Shuffle(1);
        var c = Unbalanced.Shuffle(2);

        Assert.Equal(Enumerable.Range(0, 103), a.Indices.Order());
        Assert.Equal(a.Indices, b.Indices);
        Assert.NotEqual(a.Indices, c.Indices);
        Assert.NotEqual(Enumerable.Range(0, 103), a.Indices);
    }

    [Fact]
    public void Take_is_a_prefix()
    {
        Assert.Equal([0, 1, 2], Unbalanced.Take(3).Indices);
        Assert.Equal(103, Unbalanced.Take(1000).Count);
    }

    [Fact]
    public void Shuffle_sequence_is_pinned()
    {
        // The generator is ours so that a seed means the same thing forever; this pins its output (the expected
        // order was computed by an independent Python transcription of SplitMix64, the seed hashing and Lemire's method).
        var order = DataFiles.Synthetic(10, new ImageShape(1, 1, 1), 1).Shuffle(42).Indices;
        Assert.Equal(PinnedShuffle, order);
    }

    private static readonly int[] PinnedShuffle = [2, 5, 3, 1, 6, 8, 7, 0, 9, 4];
}
