namespace Acp.Engine.Data;

/// <summary>
/// Turns a data set into batches of normalised float images [N, C, H, W] with int labels, optionally shuffled and
/// augmented (random crop with padding, horizontal flip). Everything random is a function of
/// (<see cref="BatchLoaderOptions.Seed"/>, epoch, position in the epoch), so the same seed and epoch give
/// bit-identical batches regardless of batch size history, threads or machine, and an interrupted run can be resumed
/// at any epoch.
/// </summary>
/// <remarks>
/// The loader keeps no per-epoch state and can be enumerated from several threads at once, each with its own
/// <see cref="Batch"/>. Filling a batch allocates nothing: pixels go through a per-channel lookup table of the 256
/// possible normalised values into the batch's own arrays.
/// </remarks>
/// <example>
/// <code>
/// var loader = new BatchLoader(train, new BatchLoaderOptions { BatchSize = 128, Shuffle = true, CropPadding = 4,
///     HorizontalFlip = true, Normalization = ChannelNormalization.Cifar10, Seed = 1 });
/// var batch = loader.CreateBatch();
/// for (var epoch = 0; epoch &lt; epochs; epoch++)
///     foreach (var b in loader.GetBatches(epoch, batch)) Step(b.Images, b.Labels, b.Count);
/// </code>
/// </example>
public sealed class BatchLoader
{
    // Null for data sets of model-input floats, which are not normalised again.
    private readonly float[]? _table;

    /// <summary>A loader over <paramref name="dataset"/>.</summary>
    /// <exception cref="ArgumentException">The options are invalid or the normalisation has the wrong number of channels.</exception>
    public BatchLoader(IImageDataset dataset, BatchLoaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        options ??= new BatchLoaderOptions();
        var shape = dataset.ImageShape;
        if (shape.Channels <= 0 || shape.Height <= 0 || shape.Width <= 0) throw new ArgumentException($"The data set's image shape {shape} must be positive.", nameof(dataset));
        if (options.BatchSize <= 0) throw new ArgumentException($"Batch size must be positive; got {options.BatchSize}.", nameof(options));
        if (options.CropPadding < 0) throw new ArgumentException($"Crop padding cannot be negative; got {options.CropPadding}.", nameof(options));
        Dataset = dataset;
        Options = options;
        if (dataset.PixelFormat == PixelFormat.Features)
        {
            if (options.Normalization is not null) throw new ArgumentException("The data set's images are model input already; do not normalise them again (Normalization must be null).", nameof(options));
            return;
        }
        var normalization = options.Normalization ?? ChannelNormalization.ScaleOnly(shape.Channels);
        if (normalization.Channels != shape.Channels)
        {
            throw new ArgumentException($"The normalisation has {normalization.Channels} channel(s) but the data set's images are {shape}.", nameof(options));
        }
        _table = normalization.LookupTable();
    }

    /// <summary>The data set read.</summary>
    public IImageDataset Dataset { get; }

    /// <summary>The options.</summary>
    public BatchLoaderOptions Options { get; }

    /// <summary>Batches per epoch.</summary>
    public int BatchCount => Options.DropLast
        ? Dataset.Count / Options.BatchSize
        : (int)(((long)Dataset.Count + Options.BatchSize - 1) / Options.BatchSize);

    /// <summary>Images per epoch (fewer than the data set when <see cref="BatchLoaderOptions.DropLast"/> drops some).</summary>
    public int ImagesPerEpoch => Options.DropLast ? BatchCount * Options.BatchSize : Dataset.Count;

    /// <summary>A batch buffer sized for this loader.</summary>
    public Batch CreateBatch() => new(Dataset.ImageShape, Options.BatchSize);

    /// <summary>
    /// The dataset indices in the order epoch <paramref name="epoch"/> visits them: a seeded permutation when
    /// shuffling, 0, 1, 2, … otherwise.
    /// </summary>
    public int[] EpochOrder(int epoch)
    {
        var order = new int[Dataset.Count];
        for (var i = 0; i < order.Length; i++) order[i] = i;
        if (Options.Shuffle) DeterministicRandom.For(Options.Seed, RandomPurpose.EpochOrder, epoch).Shuffle(order);
        return order;
    }

    /// <summary>
    /// The batches of epoch <paramref name="epoch"/>, each written into <paramref name="buffer"/> (or one buffer
    /// allocated for this enumeration). Every item is that same <see cref="Batch"/> object, overwritten by the next
    /// one, which is why nothing is allocated per batch: consume each batch before moving on, and do not collect them
    /// (e.g. with ToList).
    /// </summary>
    /// <param name="epoch">The epoch number; it seeds that epoch's order and augmentation.</param>
    /// <param name="buffer">A buffer whose capacity is at least the batch size and whose image shape is the data set's.</param>
    public IEnumerable<Batch> GetBatches(int epoch, Batch? buffer = null)
    {
        if (buffer is not null)
        {
            if (buffer.ImageShape != Dataset.ImageShape) throw new ArgumentException($"The buffer holds {buffer.ImageShape} images; the data set has {Dataset.ImageShape}.", nameof(buffer));
            if (buffer.Capacity < Options.BatchSize) throw new ArgumentException($"The buffer holds {buffer.Capacity} images; the batch size is {Options.BatchSize}.", nameof(buffer));
        }
        // Checked eagerly above; the iterator below runs only when enumerated.
        return Enumerate(epoch, buffer ?? CreateBatch());
    }

    private IEnumerable<Batch> Enumerate(int epoch, Batch batch)
    {
        var order = EpochOrder(epoch);
        var scratch = new Scratch(Dataset.ImageShape.PixelCount, _table is null);
        var batches = BatchCount;
        for (var b = 0; b < batches; b++)
        {
            var start = b * Options.BatchSize;
            var count = Math.Min(Options.BatchSize, order.Length - start);
            Fill(batch, order.AsSpan(start, count), epoch, start, scratch);
            batch.Epoch = epoch;
            batch.Number = b;
            yield return batch;
        }
    }

    /// <summary>Writes the images at <paramref name="indices"/> (epoch positions from <paramref name="firstPosition"/>) into the batch.</summary>
    private void Fill(Batch batch, ReadOnlySpan<int> indices, int epoch, int firstPosition, Scratch scratch)
    {
        var shape = Dataset.ImageShape;
        var size = shape.PixelCount;
        var padding = Options.CropPadding;
        for (var i = 0; i < indices.Length; i++)
        {
            var index = indices[i];
            if (_table is null) Dataset.ReadFeatures(index, scratch.Features);
            else Dataset.ReadImage(index, scratch.Bytes);
            int offsetY = padding, offsetX = padding;
            var flip = false;
            if (Options.Augments)
            {
                // One stream per image, keyed by its position in the epoch: independent of batch boundaries and of
                // the order images are filled in. Offsets in 0..2p; p means "no shift".
                var random = DeterministicRandom.For(Options.Seed, RandomPurpose.Augmentation, epoch, firstPosition + i);
                if (padding > 0)
                {
                    offsetY = random.NextInt(2 * padding + 1);
                    offsetX = random.NextInt(2 * padding + 1);
                }
                if (Options.HorizontalFlip) flip = random.NextBool();
            }
            var destination = batch.Images.AsSpan(i * size, size);
            if (_table is null) Transform<float, AsIs>(scratch.Features, destination, shape, default, padding, offsetY, offsetX, flip);
            else Transform(scratch.Bytes, destination, shape, _table, padding, offsetY, offsetX, flip);
            batch.Labels[i] = DatasetExtensions.CheckedLabel(Dataset, index);
            batch.Indices[i] = index;
        }
        batch.Count = indices.Length;
    }

    /// <summary>
    /// Normalises one image through <paramref name="table"/> (256 floats per channel) while cropping and flipping:
    /// output pixel (y, x) is the padded image's pixel (y + offsetY, x' + offsetX), with x' = W−1−x when flipping and
    /// x otherwise, where the padded image is the source with <paramref name="padding"/> black pixels on every side.
    /// Offsets equal to the padding and no flip give the image unchanged.
    /// </summary>
    internal static void Transform(ReadOnlySpan<byte> source, Span<float> destination, ImageShape shape, float[] table,
        int padding, int offsetY, int offsetX, bool flip) =>
        Transform<byte, Lookup>(source, destination, shape, new Lookup(table), padding, offsetY, offsetX, flip);

    /// <summary>A pixel's model-input value in channel c (a struct, so the loop below is specialised, not called through).</summary>
    private interface IPixelMap<T>
    {
        float Map(int channel, T value);
    }

    /// <summary>Bytes through the normalisation's table of 256 values per channel.</summary>
    private readonly struct Lookup(float[] table) : IPixelMap<byte>
    {
        public float Map(int channel, byte value) => table[(channel << 8) + value];
    }

    /// <summary>Model-input floats, unchanged; padding is 0 in input space.</summary>
    private readonly struct AsIs : IPixelMap<float>
    {
        public float Map(int channel, float value) => value;
    }

    /// <summary>One image's worth of source pixels, of the data set's format.</summary>
    private sealed class Scratch(int size, bool features)
    {
        public byte[] Bytes { get; } = features ? [] : new byte[size];

        public float[] Features { get; } = features ? new float[size] : [];
    }

    private static void Transform<T, TMap>(ReadOnlySpan<T> source, Span<float> destination, ImageShape shape, TMap map,
        int padding, int offsetY, int offsetX, bool flip)
        where T : unmanaged
        where TMap : struct, IPixelMap<T>
    {
        int height = shape.Height, width = shape.Width, plane = shape.PlaneSize;
        var shiftY = offsetY - padding;
        var shiftX = offsetX - padding;
        for (var c = 0; c < shape.Channels; c++)
        {
            var black = map.Map(c, default);
            var src = source.Slice(c * plane, plane);
            var dst = destination.Slice(c * plane, plane);
            if (shiftY == 0 && shiftX == 0 && !flip)
            {
                for (var p = 0; p < plane; p++) dst[p] = map.Map(c, src[p]);
                continue;
            }
            for (var y = 0; y < height; y++)
            {
                var row = dst.Slice(y * width, width);
                var sy = y + shiftY;
                if ((uint)sy >= (uint)height)
                {
                    row.Fill(black);
                    continue;
                }
                var srcRow = src.Slice(sy * width, width);
                for (var x = 0; x < width; x++)
                {
                    var sx = (flip ? width - 1 - x : x) + shiftX;
                    row[x] = (uint)sx < (uint)width ? map.Map(c, srcRow[sx]) : black;
                }
            }
        }
    }
}
