using Acp.Data;

namespace Acp.Engine.Tests.Data;

/// <summary>Batches: normalisation arithmetic, crop and flip geometry, determinism, drop-last, buffer reuse.</summary>
public sealed class BatchLoaderTests
{
    private static readonly ImageShape Tiny = new(1, 3, 3);

    /// <summary>A table that maps every byte to itself, so transformed images can be read as pixel values.</summary>
    private static float[] IdentityTable(int channels, int offset = 0) =>
        Enumerable.Range(0, channels * 256).Select(i => (float)(i % 256 + (i / 256) * offset)).ToArray();

    private static float[] Transform(byte[] source, ImageShape shape, int padding, int offsetY, int offsetX, bool flip, float[]? table = null)
    {
        var result = new float[shape.PixelCount];
        BatchLoader.Transform(source, result, shape, table ?? IdentityTable(shape.Channels), padding, offsetY, offsetX, flip);
        return result;
    }

    private static readonly byte[] OneToNine = [1, 2, 3, 4, 5, 6, 7, 8, 9];

    [Fact]
    public void Normalisation_is_scale_then_per_channel_standardisation()
    {
        byte[] pixels = [0, 51, 128, 255, 10, 20, 200, 255];
        var dataset = new InMemoryImageDataset(new ImageShape(2, 2, 2), 1, pixels, [0]);
        var normalization = new ChannelNormalization([0.5f, 0.25f], [0.2f, 0.5f]);
        var loader = new BatchLoader(dataset, new BatchLoaderOptions { Normalization = normalization });

        var batch = Assert.Single(loader.GetBatches(0));

        for (var i = 0; i < 8; i++)
        {
            var (mean, std) = i < 4 ? (0.5, 0.2) : (0.25, 0.5);
            Assert.Equal((pixels[i] / 255.0 - mean) / std, batch.Images[i], 1e-6);
            Assert.Equal(batch.Images[i], normalization.Apply(i / 4, pixels[i]));
        }
        Assert.Equal(-2.5f, batch.Images[0], 1e-6f);
        Assert.Equal(2.5f, batch.Images[3], 1e-6f);
    }

    [Fact]
    public void Without_normalisation_pixels_are_scaled_to_unit_range()
    {
        var dataset = new InMemoryImageDataset(new ImageShape(1, 1, 3), 1, [0, 17, 255], [0]);

        var batch = Assert.Single(new BatchLoader(dataset).GetBatches(0));

        Assert.Equal([0f, 17f / 255f, 1f], batch.ImageSpan.ToArray());
    }

    [Fact]
    public void Crop_offsets_shift_the_image_and_fill_with_black()
    {
        // Padded by 1, the window at (0, 0) starts one row and column before the image.
        Assert.Equal([0, 0, 0, 0, 1, 2, 0, 4, 5], Transform(OneToNine, Tiny, 1, 0, 0, false));
        // At (2, 1): one row down, no horizontal shift.
        Assert.Equal([4, 5, 6, 7, 8, 9, 0, 0, 0], Transform(OneToNine, Tiny, 1, 2, 1, false));
        // At (1, 2): one column right.
        Assert.Equal([2, 3, 0, 5, 6, 0, 8, 9, 0], Transform(OneToNine, Tiny, 1, 1, 2, false));
        // Centred window: unchanged.
        Assert.Equal([1, 2, 3, 4, 5, 6, 7, 8, 9], Transform(OneToNine, Tiny, 1, 1, 1, false));
        Assert.Equal([1, 2, 3, 4, 5, 6, 7, 8, 9], Transform(OneToNine, Tiny, 0, 0, 0, false));
        // Padding 4 on a 3×3 image: a window at the corner sees only padding.
        Assert.Equal(new float[9], Transform(OneToNine, Tiny, 4, 0, 0, false));
    }

    [Fact]
    public void Flip_mirrors_rows_after_the_crop()
    {
        Assert.Equal([3, 2, 1, 6, 5, 4, 9, 8, 7], Transform(OneToNine, Tiny, 0, 0, 0, true));
        // Crop one column right ([2, 3, 0] per row), then mirror.
        Assert.Equal([0, 3, 2, 0, 6, 5, 0, 9, 8], Transform(OneToNine, Tiny, 1, 1, 2, true));
        // Crop one row up and one column left ([0, 0, 0], [0, 1, 2], [0, 4, 5]), then mirror.
        Assert.Equal([0, 0, 0, 2, 1, 0, 5, 4, 0], Transform(OneToNine, Tiny, 1, 0, 0, true));
    }

    [Fact]
    public void Each_channel_uses_its_own_table_and_black()
    {
        // Channel c maps v to v + 1000c, so black is 0 in channel 0 and 1000 in channel 1.
        byte[] image = [1, 2, 3, 4, 10, 20, 30, 40];
        var shape = new ImageShape(2, 2, 2);

        var result = Transform(image, shape, 1, 0, 1, false, IdentityTable(2, offset: 1000));

        Assert.Equal([0, 0, 1, 2, 1000, 1000, 1010, 1020], result);
    }

    [Fact]
    public void Padding_is_normalised_black()
    {
        var dataset = new InMemoryImageDataset(new ImageShape(1, 1, 1), 1, [200], [0]);
        var normalization = new ChannelNormalization([0.5f], [0.25f]);
        var loader = new BatchLoader(dataset, new BatchLoaderOptions { Normalization = normalization, CropPadding = 1 });

        var seen = new HashSet<float>();
        for (var epoch = 0; epoch < 40; epoch++) seen.Add(loader.GetBatches(epoch).Single().Images[0]);

        Assert.Equal(new[] { normalization.Apply(0, 0), normalization.Apply(0, 200) }.Order(), seen.Order());
    }

    [Fact]
    public void Augmented_images_are_crops_and_flips_of_the_source_and_all_occur()
    {
        var shape = new ImageShape(1, 3, 3);
        var dataset = DataFiles.Synthetic(50, shape, 2);
        var loader = new BatchLoader(dataset, new BatchLoaderOptions { BatchSize = 16, Shuffle = true, CropPadding = 1, HorizontalFlip = true, Seed = 9 });
        var table = ChannelNormalization.ScaleOnly(1).LookupTable();
        var source = new byte[9];
        var used = new HashSet<(int, int, bool)>();

        for (var epoch = 0; epoch < 10; epoch++)
        {
            foreach (var batch in loader.GetBatches(epoch))
            {
                for (var i = 0; i < batch.Count; i++)
                {
                    dataset.ReadImage(batch.Indices[i], source);
                    var actual = batch.Images.AsSpan(i * 9, 9).ToArray();
                    var matches = (from dy in Enumerable.Range(0, 3)
                                   from dx in Enumerable.Range(0, 3)
                                   from flip in new[] { false, true }
                                   where Transform(source, shape, 1, dy, dx, flip, table).SequenceEqual(actual)
                                   select (dy, dx, flip)).ToList();
                    Assert.NotEmpty(matches);
                    if (matches.Count == 1) used.Add(matches[0]);
                    Assert.Equal(dataset.Label(batch.Indices[i]), batch.Labels[i]);
                }
            }
        }

        Assert.Equal(18, used.Count);
    }

    private static List<(float[] Images, int[] Labels, int[] Indices)> Collect(BatchLoader loader, int epoch) =>
        loader.GetBatches(epoch).Select(b => (b.ImageSpan.ToArray(), b.LabelSpan.ToArray(), b.Indices[..b.Count])).ToList();

    private static BatchLoaderOptions Training(int seed, int batchSize = 8) => new()
    {
        BatchSize = batchSize, Shuffle = true, CropPadding = 2, HorizontalFlip = true, Seed = seed, Normalization = ChannelNormalization.Cifar10,
    };

    [Fact]
    public void Same_seed_and_epoch_give_identical_batches()
    {
        var dataset = DataFiles.Synthetic(30, new ImageShape(3, 6, 5), 3);

        var first = Collect(new BatchLoader(dataset, Training(4)), 2);
        var again = Collect(new BatchLoader(dataset, Training(4)), 2);
        var otherEpoch = Collect(new BatchLoader(dataset, Training(4)), 3);
        var otherSeed = Collect(new BatchLoader(dataset, Training(5)), 2);

        Assert.Equal(first.Count, again.Count);
        for (var b = 0; b < first.Count; b++)
        {
            Assert.Equal(first[b].Images, again[b].Images);
            Assert.Equal(first[b].Labels, again[b].Labels);
            Assert.Equal(first[b].Indices, again[b].Indices);
        }
        Assert.NotEqual(first.SelectMany(b => b.Indices), otherEpoch.SelectMany(b => b.Indices));
        Assert.NotEqual(first.SelectMany(b => b.Indices), otherSeed.SelectMany(b => b.Indices));
        Assert.NotEqual(first.SelectMany(b => b.Images), otherEpoch.SelectMany(b => b.Images));
    }

    [Fact]
    public void Batch_size_does_not_change_what_an_epoch_sees()
    {
        var dataset = DataFiles.Synthetic(30, new ImageShape(3, 6, 5), 3);

        var small = Collect(new BatchLoader(dataset, Training(4, batchSize: 4)), 1);
        var large = Collect(new BatchLoader(dataset, Training(4, batchSize: 7)), 1);

        Assert.Equal(small.SelectMany(b => b.Images), large.SelectMany(b => b.Images));
        Assert.Equal(small.SelectMany(b => b.Labels), large.SelectMany(b => b.Labels));
    }

    [Fact]
    public void Without_shuffle_the_order_is_the_data_set_order()
    {
        var dataset = DataFiles.Synthetic(10, Tiny, 3);
        var loader = new BatchLoader(dataset, new BatchLoaderOptions { BatchSize = 4 });

        var batches = Collect(loader, 5);

        Assert.Equal(Enumerable.Range(0, 10), batches.SelectMany(b => b.Indices));
        Assert.Equal(DataFiles.AllLabels(dataset), batches.SelectMany(b => b.Labels));
        Assert.Equal(DataFiles.AllPixels(dataset).Select(p => p / 255f), batches.SelectMany(b => b.Images));
    }

    [Fact]
    public void Shuffled_epoch_visits_every_image_once()
    {
        var dataset = DataFiles.Synthetic(10, Tiny, 3);
        var loader = new BatchLoader(dataset, new BatchLoaderOptions { BatchSize = 4, Shuffle = true, Seed = 1 });

        var indices = Collect(loader, 0).SelectMany(b => b.Indices).ToList();

        Assert.Equal(Enumerable.Range(0, 10), indices.Order());
        Assert.NotEqual(Enumerable.Range(0, 10), indices);
        Assert.Equal(loader.EpochOrder(0), indices);
    }

    [Theory]
    [InlineData(false, new[] { 4, 4, 2 })]
    [InlineData(true, new[] { 4, 4 })]
    public void Drop_last(bool dropLast, int[] sizes)
    {
        var loader = new BatchLoader(DataFiles.Synthetic(10, Tiny, 3), new BatchLoaderOptions { BatchSize = 4, DropLast = dropLast });

        Assert.Equal(sizes.Length, loader.BatchCount);
        Assert.Equal(sizes.Sum(), loader.ImagesPerEpoch);
        Assert.Equal(sizes, loader.GetBatches(0).Select(b => b.Count));
        Assert.Equal(Enumerable.Range(0, sizes.Length), loader.GetBatches(0).Select(b => b.Number));
    }

    [Fact]
    public void Every_batch_is_the_callers_buffer()
    {
        var shape = new ImageShape(1, 2, 2);
        var loader = new BatchLoader(DataFiles.Synthetic(10, shape, 3), new BatchLoaderOptions { BatchSize = 3 });
        var images = new float[100];
        var labels = new int[10];
        var buffer = new Batch(shape, 3, images, labels);

        foreach (var batch in loader.GetBatches(0, buffer))
        {
            Assert.Same(buffer, batch);
            Assert.Same(images, batch.Images);
            Assert.Same(labels, batch.Labels);
        }
        Assert.Equal([1, 1, 2, 2], buffer.Shape);
    }

    [Fact]
    public void Enumerating_an_epoch_allocates_nothing_per_batch()
    {
        var shape = new ImageShape(3, 8, 8);
        const int count = 6400;
        var loader = new BatchLoader(DataFiles.Synthetic(count, shape, 10), Training(1, batchSize: 64) with { Normalization = null });
        var buffer = loader.CreateBatch();
        foreach (var _ in loader.GetBatches(0, buffer)) { }

        // The fewest bytes over three epochs: a per-batch allocation shows in every epoch, while one-off runtime work
        // that lands on this thread in one of them (seen once at 4 KB on a loaded machine) does not.
        var allocated = long.MaxValue;
        for (var epoch = 1; epoch <= 3; epoch++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            var batches = 0;
            foreach (var _ in loader.GetBatches(epoch, buffer)) batches++;
            allocated = Math.Min(allocated, GC.GetAllocatedBytesForCurrentThread() - before);
            Assert.Equal(100, batches);
        }
        // The epoch's order (4 bytes per image) and one image of scratch; one batch of floats alone would be 48 KB.
        Assert.True(allocated < count * 4 + shape.PixelCount + 4096, $"allocated {allocated} bytes");
    }

    [Fact]
    public void Bad_options_and_buffers_fail_at_once()
    {
        var dataset = DataFiles.Synthetic(10, Tiny, 3);
        Assert.Throws<ArgumentException>(() => new BatchLoader(dataset, new BatchLoaderOptions { BatchSize = 0 }));
        Assert.Throws<ArgumentException>(() => new BatchLoader(dataset, new BatchLoaderOptions { CropPadding = -1 }));
        var e = Assert.Throws<ArgumentException>(() => new BatchLoader(dataset, new BatchLoaderOptions { Normalization = ChannelNormalization.Cifar10 }));
        Assert.Contains("3 channel(s)", e.Message);

        var loader = new BatchLoader(dataset, new BatchLoaderOptions { BatchSize = 4 });
        Assert.Throws<ArgumentException>(() => loader.GetBatches(0, new Batch(Tiny, 3)));
        Assert.Throws<ArgumentException>(() => loader.GetBatches(0, new Batch(new ImageShape(1, 2, 2), 4)));
        Assert.Throws<ArgumentException>(() => new Batch(Tiny, 4, new float[35], new int[4]));
    }

    [Fact]
    public void Computed_normalisation_matches_hand_arithmetic()
    {
        // Channel 0 holds 0 and 255 (mean ½, std ½); channel 1 is constant 51 (mean 0.2, std falls back to 1).
        var dataset = new InMemoryImageDataset(new ImageShape(2, 1, 1), 1, [0, 51, 255, 51], [0, 0]);

        var measured = ChannelNormalization.Compute(dataset);

        Assert.Equal([0.5f, 0.2f], measured.Mean);
        Assert.Equal([0.5f, 1f], measured.Std);
    }
}
