namespace Acp.Data;

/// <summary>
/// A view of some images of another data set, by index, in the given order (repeats allowed, e.g. for
/// oversampling). Nothing is copied but the index list. A subset of a subset refers straight to the underlying data
/// set, so chains of splits and shuffles cost one indirection, not one per level.
/// </summary>
public sealed class DatasetSubset : IImageDataset
{
    private readonly int[] _indices;

    /// <summary>The images of <paramref name="source"/> at <paramref name="indices"/>, in that order.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside the source.</exception>
    public DatasetSubset(IImageDataset source, IEnumerable<int> indices)
        : this(source, (indices ?? throw new ArgumentNullException(nameof(indices))).ToArray(), validate: true)
    {
    }

    /// <summary>Takes ownership of <paramref name="indices"/>; they are checked when <paramref name="validate"/> is set.</summary>
    internal DatasetSubset(IImageDataset source, int[] indices, bool validate)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (validate)
        {
            for (var i = 0; i < indices.Length; i++)
            {
                if ((uint)indices[i] >= (uint)source.Count)
                {
                    throw new ArgumentOutOfRangeException(nameof(indices), indices[i], $"Index {i} of the subset is {indices[i]}, outside the {source.Count} images of the data set.");
                }
            }
        }
        if (source is DatasetSubset inner)
        {
            for (var i = 0; i < indices.Length; i++) indices[i] = inner._indices[indices[i]];
            source = inner.Source;
        }
        Source = source;
        _indices = indices;
    }

    /// <summary>The underlying data set (never itself a <see cref="DatasetSubset"/>).</summary>
    public IImageDataset Source { get; }

    /// <summary>The indices into <see cref="Source"/>, in this view's order.</summary>
    public IReadOnlyList<int> Indices => _indices;

    /// <summary>The index in <see cref="Source"/> of this view's image <paramref name="index"/>.</summary>
    public int SourceIndex(int index) => _indices[index];

    /// <inheritdoc/>
    public int Count => _indices.Length;

    /// <inheritdoc/>
    public ImageShape ImageShape => Source.ImageShape;

    /// <inheritdoc/>
    public int ClassCount => Source.ClassCount;

    /// <inheritdoc/>
    public void ReadImage(int index, Span<byte> destination) => Source.ReadImage(_indices[index], destination);

    /// <inheritdoc/>
    public int Label(int index) => Source.Label(_indices[index]);

    /// <inheritdoc/>
    public PixelFormat PixelFormat => Source.PixelFormat;

    /// <inheritdoc/>
    public bool DecodesOnRead => Source.DecodesOnRead;

    /// <inheritdoc/>
    public void ReadFeatures(int index, Span<float> destination) => Source.ReadFeatures(_indices[index], destination);

    /// <inheritdoc/>
    public override string ToString() => $"{Count} of {Source}";
}
