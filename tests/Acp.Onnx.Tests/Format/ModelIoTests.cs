using Acp.Onnx.Ir;
using Acp.Onnx.Tests.Support;

namespace Acp.Onnx.Tests.Format;

public sealed class ModelIoTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("acp-io-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Save_then_load_keeps_every_modelled_field()
    {
        var model = TinyModels.Cnn();
        model.Metadata.Add(KeyValuePair.Create("author", "tests"));
        model.DocString = "doc";
        var path = Path.Combine(_dir, "m.onnx");
        model.Save(path);

        var loaded = OnnxModel.Load(path);

        Assert.Equal(model.IrVersion, loaded.IrVersion);
        Assert.Equal(13, loaded.OpsetVersion);
        Assert.Equal("doc", loaded.DocString);
        Assert.Equal(model.Metadata, loaded.Metadata);
        Assert.Equal(model.Graph.Nodes.Select(n => n.ToString()), loaded.Graph.Nodes.Select(n => n.ToString()));
        Assert.Equal(model.Graph.Nodes.Select(n => string.Join(";", n.Attributes)), loaded.Graph.Nodes.Select(n => string.Join(";", n.Attributes)));
        Assert.Equal(model.Graph.Inputs.Select(v => v.ToString()), loaded.Graph.Inputs.Select(v => v.ToString()));
        foreach (var tensor in model.Graph.Initializers)
        {
            var back = loaded.Graph.Initializers[tensor.Name];
            Assert.Equal(tensor.Dims, back.Dims);
            Assert.Equal(tensor.Floats, back.Floats);
        }
    }

    [Fact]
    public void Save_refuses_to_overwrite_unless_asked_and_leaves_no_temporary_files()
    {
        var path = Path.Combine(_dir, "m.onnx");
        File.WriteAllText(path, "precious");
        var model = TinyModels.Cnn();

        Assert.Throws<IOException>(() => model.Save(path));
        Assert.Equal("precious", File.ReadAllText(path));

        model.Save(path, overwrite: true);
        Assert.Equal(model.ToBytes(), File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(_dir));
    }

    [Fact]
    public void Unknown_fields_and_unknown_ops_survive_a_round_trip()
    {
        var model = TinyModels.Cnn();
        model.Graph.Nodes.Insert(2, new Node("mystery", "Mystery", ["r"], ["r2"], [NodeAttribute.FromString("mode", "x")], "com.example"));
        model.Graph.Nodes[3].Inputs[0] = "r2";
        model.OpsetImports.Add(new OpsetImport("com.example", 1));
        // A ModelProto field Acp does not declare (training_info = 20, a length-delimited message): appended bytes.
        var bytes = model.ToBytes().Concat(new byte[] { 0xA2, 0x01, 0x03, 0x0A, 0x01, 0x41 }).ToArray();

        var loaded = OnnxModel.FromBytes(bytes);
        var saved = loaded.ToBytes();

        Assert.Equal(bytes, saved);
        Assert.Contains(loaded.Graph.Nodes, n => n.OpType == "Mystery" && n.Domain == "com.example");
    }

    [Fact]
    public void Stream_loading_matches_file_loading()
    {
        var model = TinyModels.Cnn();
        using var stream = new MemoryStream(model.ToBytes());
        var loaded = OnnxModel.Load(stream, "memory");
        Assert.Equal(model.ToBytes(), loaded.ToBytes());
    }

    [Fact]
    public void External_data_inside_the_model_folder_is_read()
    {
        var model = TinyModels.Cnn();
        var weights = model.Graph.Initializers["fc.w"].Floats;
        var offset = 16;
        var data = new byte[offset + weights.Length * 4];
        Buffer.BlockCopy(weights, 0, data, offset, weights.Length * 4);
        Directory.CreateDirectory(Path.Combine(_dir, "weights"));
        File.WriteAllBytes(Path.Combine(_dir, "weights", "fc.bin"), data);
        var path = Path.Combine(_dir, "ext.onnx");
        File.WriteAllBytes(path, ModelProtos.WithExternalFcWeight(model, "weights/fc.bin", offset, weights.Length * 4));

        var loaded = OnnxModel.Load(path);

        Assert.Equal(weights, loaded.Graph.Initializers["fc.w"].Floats);
    }

    [Theory]
    [InlineData("../outside.bin")]
    [InlineData("weights/../../outside.bin")]
    [InlineData("/etc/passwd")]
    public void External_data_outside_the_model_folder_is_refused(string location)
    {
        var inner = Directory.CreateDirectory(Path.Combine(_dir, "model")).FullName;
        File.WriteAllBytes(Path.Combine(_dir, "outside.bin"), new byte[4096]);
        var path = Path.Combine(inner, "m.onnx");
        File.WriteAllBytes(path, ModelProtos.WithExternalFcWeight(TinyModels.Cnn(), location, 0, 36 * 5 * 4));

        var e = Assert.Throws<OnnxModelException>(() => OnnxModel.Load(path));
        Assert.Contains("outside the model's folder", e.Message);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void External_data_through_a_symlink_that_leaves_the_folder_is_refused()
    {
        var inner = Directory.CreateDirectory(Path.Combine(_dir, "model")).FullName;
        var secret = Directory.CreateDirectory(Path.Combine(_dir, "secret")).FullName;
        File.WriteAllBytes(Path.Combine(secret, "w.bin"), new byte[4096]);
        File.CreateSymbolicLink(Path.Combine(inner, "link.bin"), Path.Combine(secret, "w.bin"));
        Directory.CreateSymbolicLink(Path.Combine(inner, "dirlink"), secret);
        foreach (var location in new[] { "link.bin", "dirlink/w.bin" })
        {
            var path = Path.Combine(inner, "m.onnx");
            File.WriteAllBytes(path, ModelProtos.WithExternalFcWeight(TinyModels.Cnn(), location, 0, 36 * 5 * 4));
            var e = Assert.Throws<OnnxModelException>(() => OnnxModel.Load(path));
            Assert.Contains("outside the model's folder", e.Message);
        }
    }

    [Fact]
    public void External_data_shorter_than_the_shape_needs_is_refused_before_allocating()
    {
        File.WriteAllBytes(Path.Combine(_dir, "w.bin"), new byte[100]);
        var path = Path.Combine(_dir, "m.onnx");
        File.WriteAllBytes(path, ModelProtos.WithExternalFcWeight(TinyModels.Cnn(), "w.bin", 0, 36 * 5 * 4));
        var e = Assert.Throws<OnnxModelException>(() => OnnxModel.Load(path));
        Assert.Contains("100 bytes", e.Message);
    }

    [Fact]
    public void External_data_from_a_stream_is_refused_with_a_hint()
    {
        var bytes = ModelProtos.WithExternalFcWeight(TinyModels.Cnn(), "w.bin", 0, 36 * 5 * 4);
        var e = Assert.Throws<OnnxModelException>(() => OnnxModel.Load(new MemoryStream(bytes), "upload"));
        Assert.StartsWith("upload:", e.Message);
        Assert.Contains("file path", e.Message);
    }
}
