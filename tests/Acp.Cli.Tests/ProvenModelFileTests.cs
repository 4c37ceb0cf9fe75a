using Acp.Cli.Commands;
using Acp.Onnx;
using Acp.Onnx.Ir;
using Acp.Onnx.Tests.Support;

namespace Acp.Cli.Tests;

/// <summary>A pruned model reaches --out only after ONNX Runtime has loaded and run it (issue 18, item 5).</summary>
public sealed class ProvenModelFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("acp-proven-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>TinyModels.Cnn with a Conv that carries both auto_pad and pads, which ONNX Runtime refuses to load.</summary>
    private static byte[] RefusedModel()
    {
        var model = TinyModels.Cnn();
        var conv = model.Graph.Nodes.Single(n => n.OpType == "Conv");
        conv.Attributes.Add(NodeAttribute.FromString("auto_pad", "SAME_UPPER"));
        return model.ToBytes();
    }

    [Fact]
    public void A_model_onnx_runtime_refuses_leaves_the_existing_output_as_it_was_and_no_file_behind()
    {
        var output = Path.Combine(_dir, "out.onnx");
        File.WriteAllText(output, "the user's earlier file");

        var error = Assert.Throws<PrunedModelRefusedException>(() => ProvenModelFile.Write(RefusedModel(), output, ComputeDevice.Cpu));

        Assert.StartsWith("ONNX Runtime refused the pruned model", error.Message);
        Assert.DoesNotContain('\n', error.Message);
        Assert.Equal("the user's earlier file", File.ReadAllText(output));
        Assert.Equal([output], Directory.GetFiles(_dir));
    }

    [Fact]
    public void A_refused_model_leaves_no_folder_that_was_created_for_it()
    {
        var output = Path.Combine(_dir, "new", "deeper", "out.onnx");

        Assert.Throws<PrunedModelRefusedException>(() => ProvenModelFile.Write(RefusedModel(), output, ComputeDevice.Cpu));

        Assert.Empty(Directory.GetFileSystemEntries(_dir));
    }

    [Fact]
    public void A_model_onnx_runtime_runs_is_written_byte_for_byte()
    {
        var bytes = TinyModels.Cnn().ToBytes();
        var output = Path.Combine(_dir, "sub", "out.onnx");

        ProvenModelFile.Write(bytes, output, ComputeDevice.Cpu);

        Assert.Equal(bytes, File.ReadAllBytes(output));
        Assert.Equal([output], Directory.GetFiles(Path.Combine(_dir, "sub")));
        using var session = OrtRun.Session(output);
    }

    [Fact]
    public async Task The_refusal_is_exit_code_4_with_one_line()
    {
        // Through the command runner, as acp prune reports it.
        using var error = new StringWriter();
        var parse = AcpCommandLine.Create(TextWriter.Null, error).Parse(["inspect", "x.onnx"]);
        var code = await CommandRunner.RunAsync(parse, error, _ =>
        {
            ProvenModelFile.Write(RefusedModel(), Path.Combine(_dir, "o.onnx"), ComputeDevice.Cpu);
            return Task.FromResult(0);
        }, CancellationToken.None);

        Assert.Equal(ExitCodes.InternalError, code);
        Assert.Single(error.ToString().Trim().Split('\n'));
        Assert.StartsWith("acp: internal error: ONNX Runtime refused the pruned model", error.ToString());
        Assert.False(File.Exists(Path.Combine(_dir, "o.onnx")));
    }
}
