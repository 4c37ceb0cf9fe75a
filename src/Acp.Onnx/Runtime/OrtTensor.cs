using System.Globalization;
using Acp.Onnx.Ir;

namespace Acp.Onnx.Runtime;

/// <summary>
/// A dense tensor passed to or returned from <see cref="InferenceSession.Run(IReadOnlyDictionary{string, OrtTensor})"/>:
/// a shape and a buffer of float32 or int64 elements in row-major order. An input tensor does not copy
/// its buffer; the buffer is pinned and handed to the runtime for the duration of each run, so it must
/// not change while a run that uses it is in progress. Output tensors own fresh arrays.
/// </summary>
public sealed class OrtTensor
{
    private readonly ReadOnlyMemory<float> floats;
    private readonly ReadOnlyMemory<long> int64s;
    private readonly long[] shape;

    private OrtTensor(ElementType elementType, ReadOnlyMemory<float> floats, ReadOnlyMemory<long> int64s, int length, ReadOnlySpan<long> shape)
    {
        ElementCount = CheckedElementCount(shape);
        if (ElementCount != length)
        {
            throw new ArgumentException(
                $"The shape {FormatShape(shape)} holds {ElementCount} elements but the buffer has {length}.", nameof(shape));
        }

        ElementType = elementType;
        this.floats = floats;
        this.int64s = int64s;
        this.shape = shape.ToArray();
        Shape = Array.AsReadOnly(this.shape);
    }

    /// <summary>The element type: <see cref="ElementType.Float"/> or <see cref="ElementType.Int64"/>.</summary>
    public ElementType ElementType { get; }

    /// <summary>The dimensions, outermost first. A scalar has none.</summary>
    public IReadOnlyList<long> Shape { get; }

    /// <summary>The number of elements, the product of the dimensions.</summary>
    public long ElementCount { get; }

    /// <summary>The elements of a float32 tensor. Throws <see cref="InvalidOperationException"/> for other types.</summary>
    public ReadOnlyMemory<float> FloatData => ElementType == ElementType.Float
        ? floats
        : throw new InvalidOperationException($"This tensor holds {ElementTypes.Name(ElementType)} elements, not float.");

    /// <summary>The elements of an int64 tensor. Throws <see cref="InvalidOperationException"/> for other types.</summary>
    public ReadOnlyMemory<long> Int64Data => ElementType == ElementType.Int64
        ? int64s
        : throw new InvalidOperationException($"This tensor holds {ElementTypes.Name(ElementType)} elements, not int64.");

    /// <summary>
    /// A float32 tensor over <paramref name="data"/> without copying it. Throws <see cref="ArgumentException"/>
    /// when a dimension is negative or the dimensions' product differs from the buffer length.
    /// </summary>
    public static OrtTensor FromFloat(ReadOnlyMemory<float> data, params ReadOnlySpan<long> shape) =>
        new(ElementType.Float, data, default, data.Length, shape);

    /// <summary>
    /// An int64 tensor over <paramref name="data"/> without copying it. Throws <see cref="ArgumentException"/>
    /// when a dimension is negative or the dimensions' product differs from the buffer length.
    /// </summary>
    public static OrtTensor FromInt64(ReadOnlyMemory<long> data, params ReadOnlySpan<long> shape) =>
        new(ElementType.Int64, default, data, data.Length, shape);

    /// <summary>The shape as text, such as [1,3].</summary>
    public string ShapeText => FormatShape(shape);

    /// <summary>The element type and shape, such as "float[1,3]".</summary>
    public override string ToString() => $"{ElementTypes.Name(ElementType)}{ShapeText}";

    /// <summary>The dimensions without copying, for passing to the runtime.</summary>
    internal ReadOnlySpan<long> ShapeSpan => shape;

    private static string FormatShape(ReadOnlySpan<long> dims)
    {
        var text = new System.Text.StringBuilder("[");
        for (var i = 0; i < dims.Length; i++)
        {
            text.Append(i == 0 ? "" : ",").Append(dims[i].ToString(CultureInfo.InvariantCulture));
        }

        return text.Append(']').ToString();
    }

    private static long CheckedElementCount(ReadOnlySpan<long> dims)
    {
        long count = 1;
        for (var i = 0; i < dims.Length; i++)
        {
            if (dims[i] < 0)
            {
                throw new ArgumentException($"Dimension {i} of the shape {FormatShape(dims)} is {dims[i]}; dimensions must not be negative.", "shape");
            }

            try
            {
                count = checked(count * dims[i]);
            }
            catch (OverflowException)
            {
                throw new ArgumentException($"The shape {FormatShape(dims)} has more elements than a 64-bit count can hold.", "shape");
            }
        }

        return count;
    }
}

/// <summary>One output of a run: its name and its tensor.</summary>
/// <param name="Name">The output name, as the model spells it.</param>
/// <param name="Tensor">The output values, copied into managed memory.</param>
public sealed record NamedTensor(string Name, OrtTensor Tensor);

/// <summary>The outputs of one run, in the order they were requested, also reachable by name.</summary>
public sealed class SessionOutputs : IReadOnlyList<NamedTensor>
{
    private readonly NamedTensor[] items;

    internal SessionOutputs(NamedTensor[] items) => this.items = items;

    /// <summary>The number of outputs.</summary>
    public int Count => items.Length;

    /// <summary>The output at <paramref name="index"/>.</summary>
    public NamedTensor this[int index] => items[index];

    /// <summary>
    /// The tensor of the output called <paramref name="name"/>. Throws <see cref="KeyNotFoundException"/>
    /// naming the outputs that are present when there is none by that name.
    /// </summary>
    public OrtTensor this[string name] => TryGet(name, out var tensor)
        ? tensor
        : throw new KeyNotFoundException($"No output named '{name}' in this result; it has {string.Join(", ", items.Select(i => i.Name))}.");

    /// <summary>Finds the output called <paramref name="name"/>.</summary>
    public bool TryGet(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out OrtTensor? tensor)
    {
        foreach (var item in items)
        {
            if (item.Name == name)
            {
                tensor = item.Tensor;
                return true;
            }
        }

        tensor = null;
        return false;
    }

    /// <summary>Enumerates the outputs in order.</summary>
    public IEnumerator<NamedTensor> GetEnumerator() => ((IEnumerable<NamedTensor>)items).GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
