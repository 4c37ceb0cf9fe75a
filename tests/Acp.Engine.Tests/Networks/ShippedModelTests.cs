using System.Globalization;
using System.Text.Json;
using Acp.Data;
using Acp.Engine.Execution;
using Acp.Engine.Tests.Data;
using Acp.Engine.Training;
using Acp.Onnx.Ir;
using Acp.Onnx.Tests.Support;
using Microsoft.ML.OnnxRuntime;
using Xunit.Abstractions;

namespace Acp.Engine.Tests.Networks;

/// <summary>
/// The pretrained model the repository ships in models/ (tools/train_fashion_resnet20.py) and the first test images
/// of Fashion-MNIST, loaded once for the tests of <see cref="ShippedModelTests"/>.
/// </summary>
public sealed class ShippedModelFixture : IDisposable
{
    /// <summary>How many test images the accuracy test scores (the script records PyTorch's accuracy on the same ones).</summary>
    public const int TestImages = 2000;

    private readonly Lazy<InferenceSession> _session;

    /// <summary>Locates the model files and opens the first <see cref="TestImages"/> test images.</summary>
    public ShippedModelFixture()
    {
        var models = Path.Combine(RepositoryRoot(), "models");
        ModelPath = Path.Combine(models, "fashion_resnet20.onnx");
        ProvenancePath = Path.Combine(models, "fashion_resnet20.json");
        if (!File.Exists(ModelPath)) throw new FileNotFoundException($"The shipped model is missing: {ModelPath} (tools/train_fashion_resnet20.py --out models/ writes it).", ModelPath);
        Model = OnnxModel.Load(ModelPath);
        Test = DatasetFolder.Open(FashionMnistFixture.RequireFolder(), DatasetSplit.Test, TestImages);
        _session = new Lazy<InferenceSession>(() => OrtRun.Session(ModelPath));
    }

    /// <summary>models/fashion_resnet20.onnx.</summary>
    public string ModelPath { get; }

    /// <summary>models/fashion_resnet20.json, the training script's record of what PyTorch measured.</summary>
    public string ProvenancePath { get; }

    /// <summary>The parsed model (not modified by the tests).</summary>
    public OnnxModel Model { get; }

    /// <summary>The first <see cref="TestImages"/> images of the test split.</summary>
    public IImageDataset Test { get; }

    /// <summary>An ONNX Runtime session on the model file: the oracle.</summary>
    public InferenceSession Session => _session.Value;

    /// <summary>Evaluation batches of the test images, normalised as the model was trained.</summary>
    public BatchLoader Loader(int batchSize) =>
        new(Test, new BatchLoaderOptions { BatchSize = batchSize, Normalization = ChannelNormalization.FashionMnist });

    /// <summary>The accuracy PyTorch measured for <paramref name="split"/> when the model was trained.</summary>
    public double PyTorchAccuracy(string split)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(ProvenancePath));
        return document.RootElement.GetProperty("accuracy_pytorch").GetProperty(split).GetDouble();
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_session.IsValueCreated) _session.Value.Dispose();
    }

    /// <summary>The folder holding Acp.sln, found by walking up from the test assembly's folder.</summary>
    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Acp.sln"))) return folder.FullName;
        }
        throw new InvalidOperationException($"No Acp.sln above {AppContext.BaseDirectory}; the shipped-model tests run from the repository's build output.");
    }
}

/// <summary>
/// The shipped Fashion-MNIST ResNet-20: the engine must compute what ONNX Runtime computes on real images, and
/// classify as well as the runtime (and PyTorch, which trained it) does.
/// </summary>
public sealed class ShippedModelTests(ShippedModelFixture shipped, ITestOutputHelper output) : IClassFixture<ShippedModelFixture>
{
    [Fact]
    public void File_carries_the_contract_the_pruning_tools_rely_on()
    {
        var graph = shipped.Model.Graph;
        var metadata = shipped.Model.Metadata.ToDictionary(kv => kv.Key, kv => kv.Value);

        Assert.Equal(13, shipped.Model.OpsetVersion);
        Assert.Equal("input", Assert.Single(graph.RuntimeInputs).Name);
        Assert.Equal("logits", Assert.Single(graph.Outputs).Name);
        // 19 convolutions + 2 projection shortcuts, each followed by its own (unfolded) BatchNormalization.
        Assert.Equal(21, graph.Nodes.Count(n => n.OpType == "Conv"));
        Assert.Equal(21, graph.Nodes.Count(n => n.OpType == "BatchNormalization"));
        Assert.Equal("fashion-mnist", metadata["acp.dataset"]);
        Assert.Equal("last 5000 of train", metadata["acp.validation"]);
        Assert.Equal(ChannelNormalization.FashionMnist.Mean[0], float.Parse(metadata["acp.mean"], CultureInfo.InvariantCulture));
        Assert.Equal(ChannelNormalization.FashionMnist.Std[0], float.Parse(metadata["acp.std"], CultureInfo.InvariantCulture));

        var (name, input) = Assert.Single(shipped.Session.InputMetadata);
        Assert.Equal("input", name);
        Assert.Equal([-1, 1, 28, 28], input.Dimensions);
    }

    [Fact]
    public void Engine_logits_match_onnx_runtime_on_real_test_images()
    {
        var network = Network.Build(shipped.Model);
        var batch = shipped.Loader(64).GetBatches(0).First();
        var shape = batch.Shape;
        var images = batch.ImageSpan.ToArray();

        var expected = RunOrt(images, shape);
        var actual = network.Forward(shape, images);

        Assert.Equal([64, 10], actual.Shape);
        Numerics.AssertClose(expected, actual.Data, 1e-4, "shipped model logits");
        // Real images, not noise: the logits must actually separate classes, or agreement would prove little.
        Assert.True(Argmaxes(expected, 10).Distinct().Count() >= 8, "the batch's predictions cover fewer than 8 classes");
    }

    [Fact]
    public void Engine_accuracy_on_2000_test_images_matches_onnx_runtime_and_pytorch()
    {
        var network = Network.Build(shipped.Model);
        var loader = shipped.Loader(200);

        var engine = Evaluation.Accuracy(network, loader.GetBatches(0));

        long ortCorrect = 0;
        foreach (var batch in loader.GetBatches(0))
        {
            var predictions = Argmaxes(RunOrt(batch.ImageSpan.ToArray(), batch.Shape), 10);
            for (var i = 0; i < batch.Count; i++) ortCorrect += predictions[i] == batch.Labels[i] ? 1 : 0;
        }
        var ort = ortCorrect / (double)ShippedModelFixture.TestImages;
        var pytorch = shipped.PyTorchAccuracy("test_first_2000");
        output.WriteLine($"top-1 on the first {ShippedModelFixture.TestImages} test images: engine {engine.Top1:P2}, ONNX Runtime {ort:P2}, PyTorch {pytorch:P2}");

        Assert.Equal(ShippedModelFixture.TestImages, engine.Images);
        Assert.True(engine.Top1 >= 0.90, $"engine top-1 {engine.Top1:P2} < 90%");
        Assert.True(Math.Abs(engine.Top1 - ort) <= 0.005, $"engine top-1 {engine.Top1:P2}, ONNX Runtime {ort:P2}");
        Assert.True(Math.Abs(engine.Top1 - pytorch) <= 0.005, $"engine top-1 {engine.Top1:P2}, PyTorch (recorded at training) {pytorch:P2}");
    }

    private float[] RunOrt(float[] images, int[] shape)
    {
        return shipped.Session.RunFloat(("input", images, shape.Select(d => (long)d).ToArray())).Named("logits").Data;
    }

    /// <summary>Index of the highest logit per row; ties go to the lower class, as in <see cref="Evaluation"/>.</summary>
    private static int[] Argmaxes(float[] logits, int classes)
    {
        var result = new int[logits.Length / classes];
        for (var i = 0; i < result.Length; i++)
        {
            var row = logits.AsSpan(i * classes, classes);
            for (var j = 1; j < classes; j++)
            {
                if (row[j] > row[result[i]]) result[i] = j;
            }
        }
        return result;
    }
}
