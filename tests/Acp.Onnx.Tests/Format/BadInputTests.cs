using System.Diagnostics;
using Acp.Onnx.Format;
using Acp.Onnx.Ir;
using Acp.Onnx.Tests.Support;
using Google.Protobuf;

namespace Acp.Onnx.Tests.Format;

/// <summary>Every way a model file can be broken ends in one clear OnnxModelException, quickly and without big allocations.</summary>
public sealed class BadInputTests
{
    private static OnnxModelException LoadFails(byte[] bytes, string because)
    {
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        var e = Assert.Throws<OnnxModelException>(() => OnnxModel.FromBytes(bytes, "bad.onnx"));
        clock.Stop();
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"{because}: took {clock.Elapsed}");
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - allocatedBefore < 64L << 20, $"{because}: allocated too much");
        Assert.StartsWith("bad.onnx: ", e.Message);
        return e;
    }

    [Fact]
    public void Empty_file() => Assert.Contains("empty", LoadFails([], "empty").Message);

    [Fact]
    public void Missing_file_names_the_path()
    {
        var e = Assert.Throws<OnnxModelException>(() => OnnxModel.Load("/nonexistent/model.onnx"));
        Assert.Equal("/nonexistent/model.onnx: file not found.", e.Message);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void Random_bytes(int seed)
    {
        var bytes = new byte[1000 * seed];
        new Random(seed).NextBytes(bytes);
        LoadFails(bytes, $"random {seed}");
    }

    [Fact]
    public void Text_file() => Assert.Contains("not an ONNX model", LoadFails("hello, this is not a model\n"u8.ToArray(), "text").Message);

    [Fact]
    public void Every_truncation_point_of_a_small_model_fails_cleanly()
    {
        var bytes = TinyModels.Cnn().ToBytes();
        for (var length = 0; length < bytes.Length; length++)
        {
            LoadFails(bytes[..length], $"truncated to {length} of {bytes.Length}");
        }
    }

    [Fact]
    public void Dangling_input_names_the_node_and_the_value()
    {
        var bytes = ModelProtos.Edit(TinyModels.Cnn(), p => p.Graph.Node[1].Input[0] = "nowhere");
        var e = LoadFails(bytes, "dangling");
        Assert.Contains("'nowhere'", e.Message);
        Assert.Contains("'relu'", e.Message);
    }

    [Fact]
    public void Missing_initializer_is_a_dangling_input()
    {
        var bytes = ModelProtos.Edit(TinyModels.Cnn(), p => p.Graph.Initializer.Remove(p.Graph.Initializer.Single(t => t.Name == "conv.w")));
        Assert.Contains("'conv.w'", LoadFails(bytes, "missing initializer").Message);
    }

    [Fact]
    public void Cyclic_graph()
    {
        var bytes = ModelProtos.Edit(TinyModels.Cnn(), p =>
        {
            p.Graph.Node[0].Input[0] = "p"; // conv reads the pool's output, which depends on conv
        });
        Assert.Contains("cycle", LoadFails(bytes, "cycle").Message);
    }

    [Fact]
    public void Value_produced_twice()
    {
        var bytes = ModelProtos.Edit(TinyModels.Cnn(), p => p.Graph.Node[1].Output[0] = "c");
        Assert.Contains("produced twice", LoadFails(bytes, "twice").Message);
    }

    [Fact]
    public void Unsupported_data_type()
    {
        var bytes = ModelProtos.Edit(TinyModels.Cnn(), p => p.Graph.Initializer[0].DataType = 99);
        Assert.Contains("unsupported data type 99", LoadFails(bytes, "type").Message);
    }

    [Theory]
    [InlineData(new long[] { 1L << 20, 1L << 20 })]           // 2^40 elements
    [InlineData(new long[] { 1L << 62, 4 })]                 // overflows long
    [InlineData(new long[] { 3, -1 })]                       // negative
    public void Absurd_shapes(long[] dims)
    {
        var bytes = ModelProtos.Edit(TinyModels.Cnn(), p =>
        {
            p.Graph.Initializer[0].Dims.Clear();
            p.Graph.Initializer[0].Dims.Add(dims);
        });
        Assert.Contains("absurd shape", LoadFails(bytes, "absurd").Message);
    }

    [Fact]
    public void Shape_claiming_a_gigabyte_with_a_few_bytes_of_data_does_not_allocate_it()
    {
        var bytes = ModelProtos.Edit(TinyModels.Cnn(), p =>
        {
            p.Graph.Initializer[0].Dims.Clear();
            p.Graph.Initializer[0].Dims.Add([1L << 15, 1L << 15]);
        });
        Assert.Contains("bytes of data", LoadFails(bytes, "1 GiB claim").Message);
    }

    [Fact]
    public void Typed_data_count_mismatch()
    {
        var bytes = ModelProtos.Edit(TinyModels.Cnn(), p =>
        {
            var t = p.Graph.Initializer[1];
            t.RawData = ByteString.Empty;
            t.FloatData.Add([1f, 2f]);
        });
        Assert.Contains("2 elements of data", LoadFails(bytes, "typed").Message);
    }

    [Fact]
    public void No_graph_or_no_opset()
    {
        Assert.Contains("no graph", LoadFails(ModelProtos.Edit(TinyModels.Cnn(), p => p.Graph = null), "graph").Message);
        Assert.Contains("opset", LoadFails(ModelProtos.Edit(TinyModels.Cnn(), p => p.OpsetImport.Clear()), "opset").Message);
    }

    [Fact]
    public void Deeply_nested_subgraphs_hit_the_recursion_limit_not_the_stack()
    {
        var graph = new GraphProto { Name = "g" };
        for (var i = 0; i < 200; i++)
        {
            var node = new NodeProto { OpType = "If" };
            node.Attribute.Add(new AttributeProto { Name = "then_branch", Type = AttributeProto.Types.AttributeType.Graph, G = graph });
            graph = new GraphProto { Name = "g" + i };
            graph.Node.Add(node);
        }
        var proto = TinyModels.Cnn().ToProto();
        proto.Graph.Node[0].Attribute.Add(new AttributeProto { Name = "x", Type = AttributeProto.Types.AttributeType.Graph, G = graph });
        LoadFails(proto.ToByteArray(), "nesting");
    }

    [Theory]
    [InlineData(0x7FFF_FFF0u)]
    [InlineData(0x7FFF_FFFFu)]
    [InlineData(0xFFFF_FFFFu)]
    public void A_nested_length_near_two_gigabytes_is_refused(uint declared)
    {
        // A tensor shape dimension whose length prefix claims ~2^31 bytes: the protobuf decoder's limit arithmetic
        // overflows there and it indexed past its buffer (IndexOutOfRangeException) instead of reporting truncation.
        var bytes = ModelProtos.Edit(TinyModels.Cnn(), p =>
            p.Graph.Input[0].Type.TensorType.Shape.Dim[0] = new TensorShapeProto.Types.Dimension { DimParam = "LENGTHMARK" });
        byte[] marker = [0x0A, 12, 0x12, 10, .. "LENGTHMARK"u8.ToArray()];
        var at = bytes.AsSpan().IndexOf(marker);
        Assert.True(at >= 0, "the dimension's encoding was not found");
        var varint = new List<byte>();
        for (var v = declared; ; v >>= 7)
        {
            if (v < 0x80) { varint.Add((byte)v); break; }
            varint.Add((byte)(v | 0x80));
        }
        byte[] mutant = [.. bytes[..(at + 1)], .. varint, .. bytes[(at + 2)..]];

        Assert.Contains("cannot be decoded", LoadFails(mutant, $"dim length {declared}").Message);
    }

    [Theory]
    [InlineData("/dev/zero")]
    [InlineData("/dev/urandom")]
    public void A_device_is_not_read_until_memory_runs_out(string device)
    {
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<OnnxModelException>(() => OnnxModel.Load(device));
        Assert.Equal($"{device}: cannot read the file: it is not a regular file: it yields more bytes than its size (a device?); give a file.", e.Message);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - allocatedBefore < 1L << 20, "allocated too much");
    }
}
