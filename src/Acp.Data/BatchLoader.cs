namespace Acp.Data;

/// <summary>
/// Turns a data set into batches of normalised float images [N, C, H, W] with int labels, optionally shuffled and
/// augmented (random crop with padding, horizontal flip). Everything random is a function of
/// (<see cref="BatchLoaderOptions.Seed"/>, epoch, position in the epoch), so the same seed and epoch give
/// bit-identical batches regardless of batch size history, threads or machine, and an interrupted run can be resumed
/// at any epoch.
/// </summary>
/// <remarks>
/// The loader keeps no per-epoch state and can be enumerated from several threads at once, each with its own
/// <see cref="Batch"/>. Filling a batch of a data set held in memory allocates nothing: pixels go through a
/// per-channel lookup table of the 256 possible normalised values into the batch's own arrays. A data set that decodes
/// files (<see cref="IImageDataset.DecodesOnRead"/>) is decoded a few batches ahead, in parallel, into a fixed number
/// of buffers (<see cref="BatchLoaderOptions.PrefetchBatches"/>): memory does not grow with the data set.
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
        if (options.PrefetchBatches < 0) throw new ArgumentException($"Prefetched batches cannot be negative; got {options.PrefetchBatches}.", nameof(options));
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

    private IEnumerable<Batch> Enumerate(int epoch, Batch batch) =>
        Dataset.DecodesOnRead && Options.PrefetchBatches > 0 && BatchCount > 0
            ? EnumeratePrefetched(epoch, batch)
            : EnumerateInline(epoch, batch);

    /// <summary>Fills each batch on the caller's thread when it is asked for: no allocation per batch.</summary>
    private IEnumerable<Batch> EnumerateInline(int epoch, Batch batch)
    {
        var order = EpochOrder(epoch);
        var scratch = new Scratch(Dataset.ImageShape.PixelCount, _table is null);
        var batches = BatchCount;
        for (var b = 0; b < batches; b++)
        {
            var start = b * Options.BatchSize;
            var count = Math.Min(Options.BatchSize, order.Length - start);
            for (var i = 0; i < count; i++) FillOne(batch, i, order[start + i], epoch, start + i, scratch);
            batch.Count = count;
            batch.Epoch = epoch;
            batch.Number = b;
            yield return batch;
        }
    }

    /// <summary>
    /// Decodes up to <see cref="BatchLoaderOptions.PrefetchBatches"/> batches ahead of the caller, each on the thread
    /// pool and in parallel over its images, into buffers of a fixed pool; the caller receives each batch copied into
    /// its own buffer (a copy costs far less than decoding the images). Memory is bounded by the pool, whatever the
    /// data set's size; every image is filled exactly as the inline path fills it, so the batches are identical.
    /// </summary>
    private IEnumerable<Batch> EnumeratePrefetched(int epoch, Batch batch)
    {
        var order = EpochOrder(epoch);
        var batches = BatchCount;
        var pending = new Queue<Task<Batch>>();
        var free = new Stack<Batch>();
        using var stop = new CancellationTokenSource();
        var next = 0;
        void StartNext()
        {
            var number = next++;
            var buffer = free.Count > 0 ? free.Pop() : CreateBatch();
            pending.Enqueue(Task.Run(() => FillParallel(buffer, order, epoch, number, stop.Token)));
        }

        try
        {
            while (next < Math.Min(Options.PrefetchBatches, batches)) StartNext();
            for (var b = 0; b < batches; b++)
            {
                // A failure (an unreadable file) surfaces here, at the batch that holds it, as the inline path raises it.
                var filled = pending.Dequeue().GetAwaiter().GetResult();
                CopyBatch(filled, batch);
                free.Push(filled);
                if (next < batches) StartNext();
                yield return batch;
            }
        }
        finally
        {
            // The caller stopped early (or a batch failed): no decode may outlive the enumeration, still writing into
            // buffers or holding files open. Their results, and failures of batches never asked for, do not matter.
            stop.Cancel();
            foreach (var task in pending) ((IAsyncResult)task).AsyncWaitHandle.WaitOne();
        }
    }

    /// <summary>Fills batch <paramref name="number"/> of the epoch into <paramref name="buffer"/>, its images in parallel.</summary>
    private Batch FillParallel(Batch buffer, int[] order, int epoch, int number, CancellationToken cancellation)
    {
        var start = number * Options.BatchSize;
        var count = Math.Min(Options.BatchSize, order.Length - start);
        var failures = new Exception?[count];
        var pixels = Dataset.ImageShape.PixelCount;
        var features = _table is null;
        Parallel.For(0, count, new ParallelOptions { CancellationToken = cancellation },
            () => new Scratch(pixels, features),
            (i, _, scratch) =>
            {
                try
                {
                    FillOne(buffer, i, order[start + i], epoch, start + i, scratch);
                }
                catch (Exception e)
                {
                    failures[i] = e;
                }
                return scratch;
            },
            static _ => { });
        // The first failing image in batch order, as the inline path would meet it, whatever thread met it first.
        if (Array.Find(failures, f => f is not null) is { } failure) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        buffer.Count = count;
        buffer.Epoch = epoch;
        buffer.Number = number;
        return buffer;
    }

    private static void CopyBatch(Batch from, Batch to)
    {
        from.ImageSpan.CopyTo(to.Images);
        from.LabelSpan.CopyTo(to.Labels);
        from.Indices.AsSpan(0, from.Count).CopyTo(to.Indices);
        to.Count = from.Count;
        to.Epoch = from.Epoch;
        to.Number = from.Number;
    }

    /// <summary>Writes image <paramref name="index"/> (epoch position <paramref name="position"/>) into slot <paramref name="slot"/> of the batch.</summary>
    private void FillOne(Batch batch, int slot, int index, int epoch, int position, Scratch scratch)
    {
        var shape = Dataset.ImageShape;
        var size = shape.PixelCount;
        var padding = Options.CropPadding;
        if (_table is null) Dataset.ReadFeatures(index, scratch.Features);
        else Dataset.ReadImage(index, scratch.Bytes);
        int offsetY = padding, offsetX = padding;
        var flip = false;
        if (Options.Augments)
        {
            // One stream per image, keyed by its position in the epoch: independent of batch boundaries and of
            // the order images are filled in. Offsets in 0..2p; p means "no shift".
            var random = DeterministicRandom.For(Options.Seed, RandomPurpose.Augmentation, epoch, position);
            if (padding > 0)
            {
                offsetY = random.NextInt(2 * padding + 1);
                offsetX = random.NextInt(2 * padding + 1);
            }
            if (Options.HorizontalFlip) flip = random.NextBool();
        }
        var destination = batch.Images.AsSpan(slot * size, size);
        if (_table is null) Transform<float, AsIs>(scratch.Features, destination, shape, default, padding, offsetY, offsetX, flip);
        else Transform(scratch.Bytes, destination, shape, _table, padding, offsetY, offsetX, flip);
        batch.Labels[slot] = DatasetExtensions.CheckedLabel(Dataset, index);
        batch.Indices[slot] = index;
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
