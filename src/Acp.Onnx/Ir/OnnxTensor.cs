using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Acp.Onnx.Format;
using Google.Protobuf;

namespace Acp.Onnx.Ir;

/// <summary>
/// A constant tensor of the graph: an initializer or the value of a Constant node.
/// Float32 data is decoded into <see cref="Floats"/>, int64/int32 into <see cref="Int64s"/>; other element types are
/// kept as they were read and written back unchanged.
/// </summary>
public sealed class OnnxTensor
{
    /// <summary>Largest element count Acp accepts for one tensor (the largest .NET array).</summary>
    public const long MaxElements = int.MaxValue;

    private readonly float[]? _floats;
    private readonly long[]? _int64s;
    private readonly TensorProto? _opaque;

    private OnnxTensor(string name, ElementType type, long[] dims, float[]? floats, long[]? int64s, TensorProto? opaque)
    {
        Name = name;
        ElementType = type;
        Dims = dims;
        ElementCount = CountElements(dims) ?? throw new ArgumentException($"Shape [{string.Join(",", dims)}] is invalid.", nameof(dims));
        _floats = floats;
        _int64s = int64s;
        _opaque = opaque;
    }

    /// <summary>The tensor's name (the initializer name, or empty for an attribute value). Use <see cref="WithName"/> to rename.</summary>
    public string Name { get; }

    /// <summary>The element type.</summary>
    public ElementType ElementType { get; }

    /// <summary>The shape. Do not modify: tensors share it with their copies.</summary>
    public long[] Dims { get; }

    /// <summary>The number of elements (product of <see cref="Dims"/>; 1 for a scalar).</summary>
    public long ElementCount { get; }

    /// <summary>True when the elements are float32 and available through <see cref="Floats"/>.</summary>
    public bool IsFloat => _floats is not null;

    /// <summary>True when the elements are int64 or int32 and available through <see cref="Int64s"/>.</summary>
    public bool IsInteger => _int64s is not null;

    /// <summary>The float32 elements in row-major order.</summary>
    /// <exception cref="InvalidOperationException">The tensor is not float32.</exception>
    public float[] Floats => _floats ?? throw new InvalidOperationException($"Tensor '{Name}' is {ElementTypes.Name(ElementType)}, not float.");

    /// <summary>The int64 or int32 elements, widened to long, in row-major order.</summary>
    /// <exception cref="InvalidOperationException">The tensor is not an integer tensor of 32 or 64 bits.</exception>
    public long[] Int64s => _int64s ?? throw new InvalidOperationException($"Tensor '{Name}' is {ElementTypes.Name(ElementType)}, not int64 or int32.");

    /// <summary>A float32 tensor over <paramref name="data"/> (not copied).</summary>
    public static OnnxTensor FromFloats(string name, long[] dims, float[] data)
    {
        var tensor = new OnnxTensor(name, ElementType.Float, dims, data, null, null);
        if (tensor.ElementCount != data.Length)
        {
            throw new ArgumentException($"Shape [{string.Join(",", dims)}] needs {tensor.ElementCount} elements; {data.Length} given.", nameof(data));
        }
        return tensor;
    }

    /// <summary>An int64 tensor over <paramref name="data"/> (not copied).</summary>
    public static OnnxTensor FromInt64s(string name, long[] dims, long[] data)
    {
        var tensor = new OnnxTensor(name, ElementType.Int64, dims, null, data, null);
        if (tensor.ElementCount != data.Length)
        {
            throw new ArgumentException($"Shape [{string.Join(",", dims)}] needs {tensor.ElementCount} elements; {data.Length} given.", nameof(data));
        }
        return tensor;
    }

    /// <summary>A copy under another name; element arrays are shared, which is safe as long as callers treat them as immutable.</summary>
    public OnnxTensor WithName(string name) => new(name, ElementType, Dims, _floats, _int64s, _opaque);

    /// <summary>The element count of a shape, or null when a dimension is negative or the product exceeds <see cref="MaxElements"/>.</summary>
    public static long? CountElements(IReadOnlyList<long> dims)
    {
        long count = 1;
        foreach (var d in dims)
        {
            if (d < 0) return null;
            if (d == 0) return dims.Any(x => x < 0) ? null : 0;
            if (count > MaxElements / d) return null;
            count *= d;
        }
        return count;
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Name}: {ElementTypes.Name(ElementType)}[{string.Join(",", Dims)}]";

    internal static OnnxTensor FromProto(TensorProto proto, TensorSource source)
    {
        var name = proto.Name;
        string Where() => name.Length > 0 ? $"tensor '{name}'" : "a tensor attribute";
        var type = (ElementType)proto.DataType;
        if (!ElementTypes.IsKnown(type))
        {
            throw source.Error($"{Where()} has unsupported data type {proto.DataType}.");
        }
        if (proto.Segment is not null)
        {
            throw source.Error($"{Where()} is segmented; segmented tensors are not supported.");
        }
        var dims = proto.Dims.ToArray();
        if (CountElements(dims) is not { } count)
        {
            throw source.Error($"{Where()} has an absurd shape [{string.Join(",", dims)}] (negative, or more than {MaxElements} elements).");
        }

        var raw = proto.DataLocation == TensorProto.Types.DataLocation.External
            ? source.ReadExternal(proto, Where(), ElementTypes.RawByteCount(type, count))
            : proto.RawData.Length > 0 ? proto.RawData.Memory : (ReadOnlyMemory<byte>?)null;

        if (raw is { } bytes)
        {
            if (ElementTypes.RawByteCount(type, count) is not { } expected)
            {
                throw source.Error($"{Where()} stores {ElementTypes.Name(type)} elements in raw_data, which has no fixed element size.");
            }
            if (bytes.Length != expected)
            {
                throw source.Error($"{Where()} has shape [{string.Join(",", dims)}] ({count} {ElementTypes.Name(type)} elements, {expected} bytes) but {bytes.Length} bytes of data.");
            }
            return type switch
            {
                ElementType.Float => new OnnxTensor(name, type, dims, DecodeFloats(bytes.Span), null, null),
                ElementType.Int64 => new OnnxTensor(name, type, dims, null, DecodeInt64s(bytes.Span), null),
                ElementType.Int32 => new OnnxTensor(name, type, dims, null, DecodeInt32s(bytes.Span), null),
                _ => new OnnxTensor(name, type, dims, null, null, InlineCopy(proto, bytes)),
            };
        }

        var typedCount = TypedFieldCount(proto, type);
        if (typedCount != count)
        {
            throw source.Error($"{Where()} has shape [{string.Join(",", dims)}] ({count} elements) but {typedCount} elements of data.");
        }
        return type switch
        {
            ElementType.Float => new OnnxTensor(name, type, dims, proto.FloatData.ToArray(), null, null),
            ElementType.Int64 => new OnnxTensor(name, type, dims, null, proto.Int64Data.ToArray(), null),
            ElementType.Int32 => new OnnxTensor(name, type, dims, null, proto.Int32Data.Select(v => (long)v).ToArray(), null),
            _ => new OnnxTensor(name, type, dims, null, null, proto.Clone()),
        };
    }

    /// <summary>
    /// The proto for saving. Float and integer tensors are written as little-endian raw_data, which holds the exact
    /// bits and is what ONNX Runtime reads fastest; other types go back as they came.
    /// </summary>
    internal TensorProto ToProto()
    {
        if (_opaque is not null)
        {
            var copy = _opaque.Clone();
            copy.Name = Name;
            return copy;
        }
        var proto = new TensorProto { Name = Name, DataType = (int)ElementType };
        proto.Dims.Add(Dims);
        if (_floats is not null)
        {
            proto.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(_floats.AsSpan()));
        }
        else if (ElementType == ElementType.Int32)
        {
            var narrow = new byte[_int64s!.Length * 4];
            for (var i = 0; i < _int64s.Length; i++) BinaryPrimitives.WriteInt32LittleEndian(narrow.AsSpan(i * 4), checked((int)_int64s[i]));
            proto.RawData = ByteString.CopyFrom(narrow);
        }
        else
        {
            proto.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(_int64s!.AsSpan()));
        }
        return proto;
    }

    private static long TypedFieldCount(TensorProto proto, ElementType type) => type switch
    {
        ElementType.Float or ElementType.Complex64 => proto.FloatData.Count / (type == ElementType.Complex64 ? 2 : 1),
        ElementType.Int64 => proto.Int64Data.Count,
        ElementType.Double or ElementType.Complex128 => proto.DoubleData.Count / (type == ElementType.Complex128 ? 2 : 1),
        ElementType.UInt32 or ElementType.UInt64 => proto.Uint64Data.Count,
        ElementType.String => proto.StringData.Count,
        ElementType.UInt4 or ElementType.Int4 or ElementType.Float4E2M1 => proto.Int32Data.Count * 2L,
        _ => proto.Int32Data.Count,
    };

    private static TensorProto InlineCopy(TensorProto proto, ReadOnlyMemory<byte> bytes)
    {
        var copy = proto.Clone();
        copy.ExternalData.Clear();
        copy.DataLocation = TensorProto.Types.DataLocation.Default;
        copy.RawData = ByteString.CopyFrom(bytes.Span);
        return copy;
    }

    private static float[] DecodeFloats(ReadOnlySpan<byte> bytes)
    {
        var result = new float[bytes.Length / 4];
        if (BitConverter.IsLittleEndian) bytes.CopyTo(MemoryMarshal.AsBytes(result.AsSpan()));
        else for (var i = 0; i < result.Length; i++) result[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes[(i * 4)..]);
        return result;
    }

    private static long[] DecodeInt64s(ReadOnlySpan<byte> bytes)
    {
        var result = new long[bytes.Length / 8];
        for (var i = 0; i < result.Length; i++) result[i] = BinaryPrimitives.ReadInt64LittleEndian(bytes[(i * 8)..]);
        return result;
    }

    private static long[] DecodeInt32s(ReadOnlySpan<byte> bytes)
    {
        var result = new long[bytes.Length / 4];
        for (var i = 0; i < result.Length; i++) result[i] = BinaryPrimitives.ReadInt32LittleEndian(bytes[(i * 4)..]);
        return result;
    }
}
