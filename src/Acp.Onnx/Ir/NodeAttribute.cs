using System.Text;
using Acp.Onnx.Format;
using Google.Protobuf;

namespace Acp.Onnx.Ir;

/// <summary>The kind of value an attribute holds, numbered as in <c>AttributeProto.AttributeType</c>.</summary>
public enum AttributeKind
{
    /// <summary>Not set.</summary>
    Undefined = 0,
    Float = 1, Int = 2, String = 3, Tensor = 4, Graph = 5, Floats = 6, Ints = 7, Strings = 8, Tensors = 9, Graphs = 10,
    SparseTensor = 11, SparseTensors = 12, TypeProto = 13, TypeProtos = 14,
}

/// <summary>
/// A node attribute. Scalars, lists and tensors are readable; graphs and other kinds are carried through unchanged.
/// </summary>
public sealed class NodeAttribute
{
    private NodeAttribute(AttributeProto proto, OnnxTensor? tensor)
    {
        Proto = proto;
        Tensor = tensor;
    }

    /// <summary>The attribute's name.</summary>
    public string Name => Proto.Name;

    /// <summary>What kind of value it holds.</summary>
    public AttributeKind Kind => (AttributeKind)Proto.Type;

    /// <summary>The value of a FLOAT attribute.</summary>
    public float Float => Expect(AttributeKind.Float).F;

    /// <summary>The value of an INT attribute.</summary>
    public long Int => Expect(AttributeKind.Int).I;

    /// <summary>The value of a STRING attribute, decoded as UTF-8.</summary>
    public string String => Encoding.UTF8.GetString(Expect(AttributeKind.String).S.Span);

    /// <summary>The values of a FLOATS attribute.</summary>
    public float[] Floats => Expect(AttributeKind.Floats).Floats.ToArray();

    /// <summary>The values of an INTS attribute.</summary>
    public long[] Ints => Expect(AttributeKind.Ints).Ints.ToArray();

    /// <summary>The value of a TENSOR attribute, or null for other kinds.</summary>
    public OnnxTensor? Tensor { get; }

    internal AttributeProto Proto { get; }

    /// <summary>An INT attribute.</summary>
    public static NodeAttribute FromInt(string name, long value) => new(new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value }, null);

    /// <summary>A FLOAT attribute.</summary>
    public static NodeAttribute FromFloat(string name, float value) => new(new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value }, null);

    /// <summary>A STRING attribute.</summary>
    public static NodeAttribute FromString(string name, string value) => new(new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) }, null);

    /// <summary>An INTS attribute.</summary>
    public static NodeAttribute FromInts(string name, IEnumerable<long> values)
    {
        var proto = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        proto.Ints.Add(values);
        return new NodeAttribute(proto, null);
    }

    /// <summary>A FLOATS attribute.</summary>
    public static NodeAttribute FromFloats(string name, IEnumerable<float> values)
    {
        var proto = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Floats };
        proto.Floats.Add(values);
        return new NodeAttribute(proto, null);
    }

    /// <summary>A TENSOR attribute (the value of a Constant node, for example).</summary>
    public static NodeAttribute FromTensor(string name, OnnxTensor tensor) =>
        new(new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Tensor, T = tensor.ToProto() }, tensor);

    /// <inheritdoc/>
    public override string ToString() => Kind switch
    {
        AttributeKind.Int => $"{Name}={Int}",
        AttributeKind.Float => $"{Name}={Float}",
        AttributeKind.String => $"{Name}='{String}'",
        AttributeKind.Ints => $"{Name}=[{string.Join(",", Ints)}]",
        AttributeKind.Floats => $"{Name}=[{string.Join(",", Floats)}]",
        AttributeKind.Tensor => $"{Name}={Tensor}",
        _ => $"{Name}=<{Kind}>",
    };

    internal static NodeAttribute FromProto(AttributeProto proto, TensorSource source)
    {
        var kind = proto.Type;
        if (kind == AttributeProto.Types.AttributeType.Undefined)
        {
            kind = InferKind(proto);
            if (kind != AttributeProto.Types.AttributeType.Undefined)
            {
                // IR version 1 models leave the type out; later readers infer it from the field that is set.
                proto = proto.Clone();
                proto.Type = kind;
            }
        }
        var tensor = kind == AttributeProto.Types.AttributeType.Tensor && proto.T is not null ? OnnxTensor.FromProto(proto.T, source) : null;
        if (tensor is not null && proto.T is { DataLocation: TensorProto.Types.DataLocation.External })
        {
            proto = proto.Clone();
            proto.T = tensor.ToProto();
        }
        return new NodeAttribute(proto, tensor);
    }

    private static AttributeProto.Types.AttributeType InferKind(AttributeProto p) =>
        p.Ints.Count > 0 ? AttributeProto.Types.AttributeType.Ints
        : p.Floats.Count > 0 ? AttributeProto.Types.AttributeType.Floats
        : p.T is not null ? AttributeProto.Types.AttributeType.Tensor
        : p.G is not null ? AttributeProto.Types.AttributeType.Graph
        : !p.S.IsEmpty ? AttributeProto.Types.AttributeType.String
        : p.I != 0 ? AttributeProto.Types.AttributeType.Int
        : p.F != 0 ? AttributeProto.Types.AttributeType.Float
        // A zero INT or FLOAT without a type is indistinguishable from an empty attribute in proto3; it stays Undefined.
        : AttributeProto.Types.AttributeType.Undefined;

    internal AttributeProto ToProto() => Proto.Clone();

    private AttributeProto Expect(AttributeKind kind) =>
        Kind == kind ? Proto : throw new InvalidOperationException($"Attribute '{Name}' is {Kind}, not {kind}.");
}
