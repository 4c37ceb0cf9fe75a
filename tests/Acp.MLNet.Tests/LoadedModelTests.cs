using Acp.Engine.Data;
using Acp.Engine.Execution;
using Acp.Engine.Tests.Training;
using Acp.MLNet.Tests.Support;
using Acp.Onnx.Ir;

namespace Acp.MLNet.Tests;

/// <summary>Scoring plain ONNX classifiers loaded from files (what a saved pruned model loads back as).</summary>
public sealed class LoadedModelTests
{
    [Fact]
    public void A_model_exported_with_a_fixed_batch_scores_any_number_of_images_as_the_engine_does()
    {
        using var folder = new TempFolder();
        var model = SmallCnn.Create(seed: 4);
        model.Graph.Inputs[0].Shape![0] = Dimension.Fixed(4);
        model.Graph.Outputs[0].Shape![0] = Dimension.Fixed(4);
        var path = Scenario.Write(model, folder.Path);
        var context = new AcpContext();
        var test = context.Data.LoadImages(Scenario.FashionMnist, DatasetSplit.Test, limit: 10);
        using var loaded = context.Model.Load(path, ChannelNormalization.FashionMnist);

        var predictions = loaded.Transform(test);

        Assert.Equal(10, predictions.Count);
        var network = Network.Build(SmallCnn.Create(seed: 4));
        var all = Scenario.Normalised(test.Dataset, 10);
        for (var i = 0; i < 10; i++)
        {
            var engine = network.Forward([1, 1, 28, 28], all.AsSpan(i * 784, 784)).Data;
            for (var c = 0; c < 10; c++)
            {
                Assert.True(Math.Abs(engine[c] - predictions[i].Score[c]) <= 1e-3f * (1 + Math.Abs(engine[c])), $"image {i} class {c}: engine {engine[c]}, Transform {predictions[i].Score[c]}");
            }
            Assert.Equal(test.Dataset.Label(i), predictions[i].Label);
        }
    }

    [Fact]
    public void Without_metadata_pixels_are_only_scaled_and_a_normalisation_given_at_load_is_saved_with_the_model()
    {
        using var folder = new TempFolder();
        var path = Scenario.Write(SmallCnn.Create(seed: 4), folder.Path);
        var context = new AcpContext();
        using (var plain = context.Model.Load(path))
        {
            Assert.Equal([0f], plain.Normalization.Mean);
            Assert.Equal([1f], plain.Normalization.Std);
            Assert.DoesNotContain(plain.Model.Metadata, kv => kv.Key.StartsWith("acp.", StringComparison.Ordinal));
        }
        var resaved = folder.File("with-normalisation.onnx");
        using (var explicitly = context.Model.Load(path, ChannelNormalization.FashionMnist))
        {
            context.Model.Save(explicitly, resaved);
        }
        using var reloaded = OnnxImageTransformer.Load(resaved);
        Assert.Equal(ChannelNormalization.FashionMnist.Mean, reloaded.Normalization.Mean);
        Assert.Equal(ChannelNormalization.FashionMnist.Std, reloaded.Normalization.Std);
        Assert.Equal(new ImageShape(1, 28, 28), reloaded.ImageShape);
        Assert.Equal(10, reloaded.ClassCount);
    }

    [Fact]
    public void Loading_a_missing_file_or_a_folder_says_which()
    {
        using var folder = new TempFolder();
        var missing = folder.File("none.onnx");
        Assert.Equal(missing, Assert.Throws<FileNotFoundException>(() => new AcpContext().Model.Load(missing)).FileName);
        Assert.Contains("is a folder", Assert.Throws<FileNotFoundException>(() => OnnxImageTransformer.Load(folder.Path)).Message);
    }
}
