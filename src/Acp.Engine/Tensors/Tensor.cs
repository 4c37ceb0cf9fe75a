namespace Acp.Engine.Tensors;

/// <summary>
/// A dense float32 tensor in row-major (NCHW for images) order. The buffer is exactly <see cref="Length"/> long; the
/// engine reuses tensors across steps instead of allocating new ones, so callers must copy what they keep.
/// </summary>
public sealed class Tensor
{
    /// <summary>A tensor over <paramref name="data"/>, which must hold exactly the shape's element count.</summary>
    public Tensor(int[] shape, float[] data)
    {
        var length = ElementCount(shape);
        if (data.Length != length)
        {
            throw new ArgumentException($"Shape [{string.Join(",", shape)}] needs {length} elements; the buffer has {data.Length}.", nameof(data));
        }
        Shape = shape;
        Data = data;
    }

    /// <summary>A zero-filled tensor.</summary>
    public Tensor(params int[] shape) : this(shape, new float[ElementCount(shape)])
    {
    }

    /// <summary>The dimensions. Do not modify.</summary>
    public int[] Shape { get; }

    /// <summary>The elements.</summary>
    public float[] Data { get; }

    /// <summary>The number of elements.</summary>
    public int Length => Data.Length;

    /// <summary>The rank (number of dimensions).</summary>
    public int Rank => Shape.Length;

    /// <summary>The product of the dimensions, checked for overflow.</summary>
    public static int ElementCount(ReadOnlySpan<int> shape)
    {
        long count = 1;
        foreach (var d in shape)
        {
            if (d < 0) throw new ArgumentException($"Negative dimension {d} in shape [{string.Join(",", shape.ToArray())}].", nameof(shape));
            count *= d;
            if (count > Array.MaxLength) throw new ArgumentException($"Shape [{string.Join(",", shape.ToArray())}] has more elements than an array can hold.", nameof(shape));
        }
        return (int)count;
    }

    /// <summary>A deep copy.</summary>
    public Tensor Clone() => new((int[])Shape.Clone(), (float[])Data.Clone());

    /// <summary>Shape as text, e.g. [128,16,28,28].</summary>
    public string ShapeText => "[" + string.Join(",", Shape) + "]";

    /// <inheritdoc/>
    public override string ToString() => $"Tensor{ShapeText}";
}
