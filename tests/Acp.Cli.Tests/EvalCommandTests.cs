using System.IO.Compression;
using System.Text.Json;
using Acp.Engine.Tests.Training;
using Acp.Onnx.Tests.Support;
using static Acp.Cli.Tests.CliHarness;

namespace Acp.Cli.Tests;

public sealed class EvalCommandTests : IDisposable
{
    private const string FashionMnist = "/usr/share/datasets/fashion-mnist";
    private static readonly float[] Mean = [0.2860f], Std = [0.3530f];
    private readonly string _dir = Directory.CreateTempSubdirectory("acp-eval-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Accuracy_equals_onnx_runtimes_on_the_whole_test_split()
    {
        var model = Path.Combine(_dir, "cnn.onnx");
        SmallCnn.Create(11).Save(model);

        var (code, output, error) = await RunAcp("eval", model, "--data", FashionMnist, "--mean", "0.2860", "--std", "0.3530", "--json");

        Assert.True(code == 0, error);
        var json = JsonDocument.Parse(output).RootElement;
        Assert.Equal(10_000, json.GetProperty("images").GetInt32());
        var accuracy = json.GetProperty("accuracy").GetDouble();
        Assert.InRange(accuracy, 0, 1);
        Assert.Equal(OrtAccuracy(model), accuracy, 3);
        Assert.True(json.TryGetProperty("top5", out _));
    }

    [Fact]
    public async Task Table_output_is_one_line()
    {
        var model = Path.Combine(_dir, "cnn.onnx");
        SmallCnn.Create(11).Save(model);
        var (code, output, _) = await RunAcp("eval", model, "--data", FashionMnist, "--batch", "1000");
        Assert.Equal(0, code);
        Assert.Matches(@"^top-1 \d+\.\d\d %, top-5 \d+\.\d\d % on 10000 test images", output.Trim());
    }

    [Fact]
    public async Task Model_and_data_that_do_not_fit_is_a_clear_error()
    {
        var (code, _, error) = await RunAcp("eval", Onnx.Tests.Support.Fixtures.PathOf("resnet18.bn.onnx"), "--data", FashionMnist);
        Assert.Equal(ExitCodes.InvalidInput, code);
        Assert.Contains("[batch,3,64,64]", error);
    }

    /// <summary>
    /// A value that is no number or out of range is a usage error, found at parse time (README: exit 1); a channel
    /// count that does not fit the images is only known from the data (exit 2).
    /// </summary>
    [Theory]
    [InlineData("--mean", "0.1,0.2", ExitCodes.InvalidInput)]
    [InlineData("--std", "0", ExitCodes.Usage)]
    [InlineData("--std", "-1", ExitCodes.Usage)]
    [InlineData("--mean", "abc", ExitCodes.Usage)]
    public async Task Bad_normalisation_is_refused_with_its_option(string option, string value, int expected)
    {
        var model = Path.Combine(_dir, "cnn.onnx");
        SmallCnn.Create(11).Save(model);
        var (code, _, error) = await RunAcp("eval", model, "--data", FashionMnist, option, value);
        Assert.Equal(expected, code);
        Assert.Contains(option, error);
        Assert.Single(error.Trim().Split('\n'));
    }

    [Fact]
    public async Task Missing_data_folder_names_it()
    {
        var model = Path.Combine(_dir, "cnn.onnx");
        SmallCnn.Create(11).Save(model);
        var (code, _, error) = await RunAcp("eval", model, "--data", Path.Combine(_dir, "nothing-here"));
        Assert.Equal(ExitCodes.InvalidInput, code);
        Assert.Contains("nothing-here", error);
    }

    /// <summary>The same accuracy computed independently: raw IDX bytes, our normalisation formula, ONNX Runtime.</summary>
    private static double OrtAccuracy(string model)
    {
        var images = Gunzip(Path.Combine(FashionMnist, "t10k-images-idx3-ubyte.gz"))[16..];
        var labels = Gunzip(Path.Combine(FashionMnist, "t10k-labels-idx1-ubyte.gz"))[8..];
        using var session = OrtRun.Session(model);
        var correct = 0;
        const int batch = 1000;
        for (var start = 0; start < labels.Length; start += batch)
        {
            var input = new float[batch * 784];
            for (var i = 0; i < input.Length; i++) input[i] = (images[start * 784 + i] / 255f - Mean[0]) / Std[0];
            var logits = session.First("input", input, batch, 1, 28, 28).Data.AsSpan();
            for (var n = 0; n < batch; n++)
            {
                var row = logits.Slice(n * 10, 10);
                var best = 0;
                for (var j = 1; j < 10; j++) if (row[j] > row[best]) best = j;
                if (best == labels[start + n]) correct++;
            }
        }
        return correct / (double)labels.Length;
    }

    private static byte[] Gunzip(string path)
    {
        using var stream = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        return memory.ToArray();
    }
}
