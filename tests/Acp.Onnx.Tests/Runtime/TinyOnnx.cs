using Google.Protobuf;

namespace Acp.Onnx.Tests.Runtime;

/// <summary>
/// Hand-encodes small ONNX models as protobuf bytes, so the runtime tests depend on neither Python nor
/// the rest of Acp.Onnx. Field numbers are those of onnx.proto: ModelProto{ir_version=1, producer_name=2,
/// graph=7, opset_import=8}, GraphProto{node=1, name=2, initializer=5, input=11, output=12},
/// NodeProto{input=1, output=2, name=3, op_type=4}, ValueInfoProto{name=1, type=2},
/// TypeProto{tensor_type=1}, TypeProto.Tensor{elem_type=1, shape=2}, TensorShapeProto{dim=1},
/// Dimension{dim_value=1, dim_param=2}, TensorProto{dims=1, data_type=2, name=8, raw_data=9}.
/// </summary>
internal static class TinyOnnx
{
    internal const int Float = 1;
    internal const int Int64 = 7;

    /// <summary>A dimension of a declared shape: a fixed size, or a symbolic name when Param is set.</summary>
    internal readonly record struct Dim(long Value, string? Param = null)
    {
        public static implicit operator Dim(long value) => new(value);

        public static implicit operator Dim(string param) => new(-1, param);
    }

    internal sealed record Node(string OpType, string[] Inputs, string[] Outputs);

    /// <summary>A graph input or output; a null shape leaves the shape undeclared (unknown rank).</summary>
    internal sealed record Value(string Name, int ElementType, Dim[]? Shape);

    internal sealed record Initializer(string Name, int ElementType, long[] Dims, byte[] RawData)
    {
        internal static Initializer Floats(string name, long[] dims, params float[] values) =>
            new(name, Float, dims, ToBytes<float>(values));

        internal static Initializer Int64s(string name, long[] dims, params long[] values) =>
            new(name, Int64, dims, ToBytes<long>(values));
    }

    internal static byte[] Model(Value[] inputs, Value[] outputs, Node[] nodes, Initializer[] initializers, long opset = 13) =>
        Message(m =>
        {
            m.WriteTag(1, WireFormat.WireType.Varint);
            m.WriteInt64(8); // ir_version
            WriteString(m, 2, "acp-tests");
            WriteMessage(m, 7, g =>
            {
                for (var i = 0; i < nodes.Length; i++)
                {
                    var node = nodes[i];
                    WriteMessage(g, 1, n =>
                    {
                        foreach (var input in node.Inputs)
                        {
                            WriteString(n, 1, input);
                        }

                        foreach (var output in node.Outputs)
                        {
                            WriteString(n, 2, output);
                        }

                        WriteString(n, 3, $"node{i}");
                        WriteString(n, 4, node.OpType);
                    });
                }

                WriteString(g, 2, "tiny");
                foreach (var init in initializers)
                {
                    WriteMessage(g, 5, t =>
                    {
                        foreach (var d in init.Dims)
                        {
                            t.WriteTag(1, WireFormat.WireType.Varint);
                            t.WriteInt64(d);
                        }

                        t.WriteTag(2, WireFormat.WireType.Varint);
                        t.WriteInt32(init.ElementType);
                        WriteString(t, 8, init.Name);
                        t.WriteTag(9, WireFormat.WireType.LengthDelimited);
                        t.WriteBytes(ByteString.CopyFrom(init.RawData));
                    });
                }

                foreach (var input in inputs)
                {
                    WriteMessage(g, 11, v => WriteValueInfo(v, input));
                }

                foreach (var output in outputs)
                {
                    WriteMessage(g, 12, v => WriteValueInfo(v, output));
                }
            });
            WriteMessage(m, 8, o =>
            {
                WriteString(o, 1, string.Empty); // the default ai.onnx domain
                o.WriteTag(2, WireFormat.WireType.Varint);
                o.WriteInt64(opset);
            });
        });

    /// <summary>Y[1,2] = X[1,3] · W, with W = [[1,2],[3,4],[5,6]].</summary>
    internal static byte[] MatMul() => Model(
        [new("X", Float, [1, 3])],
        [new("Y", Float, [1, 2])],
        [new("MatMul", ["X", "W"], ["Y"])],
        [Initializer.Floats("W", [3, 2], 1, 2, 3, 4, 5, 6)]);

    /// <summary>Y = X · W as in <see cref="MatMul"/>, and Z = Y + B with B = [-100, 0.5].</summary>
    internal static byte[] MatMulAdd() => Model(
        [new("X", Float, [1, 3])],
        [new("Y", Float, [1, 2]), new("Z", Float, [1, 2])],
        [new("MatMul", ["X", "W"], ["Y"]), new("Add", ["Y", "B"], ["Z"])],
        [Initializer.Floats("W", [3, 2], 1, 2, 3, 4, 5, 6), Initializer.Floats("B", [2], -100f, 0.5f)]);

    /// <summary>Y[batch,2] = X[batch,3] · W, with a symbolic batch dimension.</summary>
    internal static byte[] BatchedMatMul() => Model(
        [new("X", Float, ["batch", 3])],
        [new("Y", Float, ["batch", 2])],
        [new("MatMul", ["X", "W"], ["Y"])],
        [Initializer.Floats("W", [3, 2], 1, 2, 3, 4, 5, 6)]);

    /// <summary>C[3] = A[3] + K for int64 tensors, with K = [10, 20, 30].</summary>
    internal static byte[] Int64Add() => Model(
        [new("A", Int64, [3])],
        [new("C", Int64, [3])],
        [new("Add", ["A", "K"], ["C"])],
        [Initializer.Int64s("K", [3], 10, 20, 30)]);

    /// <summary>Two inputs: S = P + Q, all float[2].</summary>
    internal static byte[] TwoInputAdd() => Model(
        [new("P", Float, [2]), new("Q", Float, [2])],
        [new("S", Float, [2])],
        [new("Add", ["P", "Q"], ["S"])],
        []);

    /// <summary>Y = Reshape(X[6], S[2]): the shape is data, so a bad one fails only while running.</summary>
    internal static byte[] Reshape() => Model(
        [new("X", Float, [6]), new("S", Int64, [2])],
        [new("Y", Float, ["rows", "cols"])],
        [new("Reshape", ["X", "S"], ["Y"])],
        []);

    /// <summary>Y = Relu(X) with neither shape declared, so any rank is acceptable.</summary>
    internal static byte[] UnshapedRelu() => Model(
        [new("X", Float, null)],
        [new("Y", Float, null)],
        [new("Relu", ["X"], ["Y"])],
        []);

    /// <summary>A well-formed protobuf whose MatMul shapes cannot agree ([1,3] · [4,2]).</summary>
    internal static byte[] MismatchedMatMul() => Model(
        [new("X", Float, [1, 3])],
        [new("Y", Float, [1, 2])],
        [new("MatMul", ["X", "W"], ["Y"])],
        [Initializer.Floats("W", [4, 2], 1, 2, 3, 4, 5, 6, 7, 8)]);

    private static void WriteValueInfo(CodedOutputStream v, Value value)
    {
        WriteString(v, 1, value.Name);
        WriteMessage(v, 2, type => WriteMessage(type, 1, tensor =>
        {
            tensor.WriteTag(1, WireFormat.WireType.Varint);
            tensor.WriteInt32(value.ElementType);
            if (value.Shape is null)
            {
                return;
            }

            WriteMessage(tensor, 2, shape =>
            {
                foreach (var dim in value.Shape)
                {
                    WriteMessage(shape, 1, d =>
                    {
                        if (dim.Param is null)
                        {
                            d.WriteTag(1, WireFormat.WireType.Varint);
                            d.WriteInt64(dim.Value);
                        }
                        else
                        {
                            WriteString(d, 2, dim.Param);
                        }
                    });
                }
            });
        }));
    }

    private static void WriteString(CodedOutputStream s, int field, string text)
    {
        s.WriteTag(field, WireFormat.WireType.LengthDelimited);
        s.WriteString(text);
    }

    private static void WriteMessage(CodedOutputStream s, int field, Action<CodedOutputStream> body)
    {
        s.WriteTag(field, WireFormat.WireType.LengthDelimited);
        s.WriteBytes(ByteString.CopyFrom(Message(body)));
    }

    private static byte[] Message(Action<CodedOutputStream> body)
    {
        using var buffer = new MemoryStream();
        using (var stream = new CodedOutputStream(buffer, leaveOpen: true))
        {
            body(stream);
            stream.Flush();
        }

        return buffer.ToArray();
    }

    private static byte[] ToBytes<T>(T[] values)
        where T : unmanaged
    {
        // Little-endian, as raw_data requires; every supported platform is little-endian.
        return System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
    }
}
