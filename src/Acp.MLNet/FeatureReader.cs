using Acp.Data;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Acp.MLNet;

/// <summary>Reads an <see cref="IDataView"/>'s feature and label columns into a data set the pipeline trains on.</summary>
internal static class FeatureReader
{
    private const int RowsPerChunk = 4096;

    /// <exception cref="ArgumentException">A row's vector has the wrong length, a label is not a class, or there are no rows.</exception>
    public static InMemoryFeatureDataset Read(IDataView data, DataViewSchema.Column features, LabelClasses labels,
        ImageModelSignature signature, CancellationToken cancellation)
    {
        var size = signature.FeatureCount;
        var chunks = new List<float[]>();
        var classes = new List<int>();
        var label = data.Schema[labels.Column];
        using var cursor = data.GetRowCursor([features, label]);
        var getFeatures = cursor.GetGetter<VBuffer<float>>(features);
        var getClass = labels.ClassGetter(cursor);
        var vector = default(VBuffer<float>);
        var current = new float[size * RowsPerChunk];
        var inChunk = 0;
        while (cursor.MoveNext())
        {
            if ((classes.Count & 1023) == 0) cancellation.ThrowIfCancellationRequested();
            getFeatures(ref vector);
            if (vector.Length != size)
            {
                throw new ArgumentException($"Row {cursor.Position}: feature column '{features.Name}' holds {vector.Length} values; {signature.Source} takes {size} ({signature.ImageShape}).");
            }
            vector.CopyTo(current.AsSpan(inChunk * size, size));
            var c = 0;
            getClass(ref c);
            classes.Add(c);
            if (++inChunk == RowsPerChunk)
            {
                chunks.Add(current);
                current = new float[size * RowsPerChunk];
                inChunk = 0;
            }
        }
        if (classes.Count == 0) throw new ArgumentException("The data have no rows.");
        var all = new float[(long)classes.Count * size];
        var offset = 0;
        foreach (var chunk in chunks)
        {
            chunk.CopyTo(all, offset);
            offset += chunk.Length;
        }
        current.AsSpan(0, inChunk * size).CopyTo(all.AsSpan(offset));
        return new InMemoryFeatureDataset(signature.ImageShape, labels.ClassCount, all, [.. classes]);
    }
}
