using Acp.Engine.Data;
using Acp.MLNet.Tests.Support;

namespace Acp.MLNet.Tests;

public sealed class DataAndMetricsTests
{
    private static ImageDataView Images(int count, int classes)
    {
        var labels = Enumerable.Range(0, count).Select(i => i % classes).ToArray();
        var pixels = new byte[count * 4];
        for (var i = 0; i < pixels.Length; i++) pixels[i] = (byte)i;
        return new ImageDataView(new InMemoryImageDataset(new ImageShape(1, 2, 2), classes, pixels, labels));
    }

    [Fact]
    public void TrainTestSplit_is_disjoint_complete_stratified_and_seeded_by_the_context()
    {
        var data = Images(100, 4);
        var split = new AcpContext(seed: 9).Data.TrainTestSplit(data, testFraction: 0.2);
        var train = ((DatasetSubset)split.TrainSet.Dataset).Indices;
        var test = ((DatasetSubset)split.TestSet.Dataset).Indices;
        Assert.Equal(20, test.Count);
        Assert.Empty(train.Intersect(test));
        Assert.Equal(Enumerable.Range(0, 100), train.Concat(test).Order());
        Assert.All(Enumerable.Range(0, 4), c => Assert.Equal(5, test.Count(i => i % 4 == c)));
        Assert.Equal(test, ((DatasetSubset)new AcpContext(seed: 9).Data.TrainTestSplit(data, 0.2).TestSet.Dataset).Indices);
        Assert.NotEqual(test, ((DatasetSubset)new AcpContext(seed: 10).Data.TrainTestSplit(data, 0.2).TestSet.Dataset).Indices);
        Assert.Equal(test, ((DatasetSubset)new AcpContext(seed: 10).Data.TrainTestSplit(data, 0.2, seed: 9).TestSet.Dataset).Indices);
    }

    [Fact]
    public void Views_keep_their_normalisation_through_splits_and_shuffles()
    {
        var context = new AcpContext(seed: 1);
        var data = Images(10, 2).WithNormalization(ChannelNormalization.Mnist);
        Assert.Same(ChannelNormalization.Mnist, context.Data.TakeRows(data, 3).Normalization);
        Assert.Equal(3, context.Data.TakeRows(data, 3).Count);
        Assert.Same(ChannelNormalization.Mnist, context.Data.ShuffleRows(data).Normalization);
        Assert.Same(ChannelNormalization.Mnist, context.Data.TrainTestSplit(data, 0.5).TestSet.Normalization);
        Assert.Throws<ArgumentException>(() => data.WithNormalization(ChannelNormalization.Cifar10));
    }

    [Fact]
    public void LoadImages_and_LoadFromIdx_read_the_same_images()
    {
        var context = new AcpContext();
        var folder = context.Data.LoadImages(Scenario.FashionMnist, DatasetSplit.Test, limit: 20);
        var idx = context.Data.LoadFromIdx(Path.Combine(Scenario.FashionMnist, "t10k-images-idx3-ubyte.gz"), Path.Combine(Scenario.FashionMnist, "t10k-labels-idx1-ubyte.gz"), limit: 20);
        Assert.Equal("Image: Vector<Single, 1, 28, 28>; Label: Key<UInt32, 0-9>", folder.Schema.ToString());
        byte[] a = new byte[784], b = new byte[784];
        for (var i = 0; i < 20; i++)
        {
            folder.Dataset.ReadImage(i, a);
            idx.Dataset.ReadImage(i, b);
            Assert.Equal(a, b);
            Assert.Equal(folder.Dataset.Label(i), idx.Dataset.Label(i));
        }
    }

    [Fact]
    public void LoadImages_reports_a_missing_folder_with_its_path()
    {
        using var folder = new TempFolder();
        var missing = folder.File("nothing-here");
        var error = Assert.Throws<DatasetException>(() => new AcpContext().Data.LoadImages(missing));
        Assert.Contains(missing, error.Message);
    }

    [Fact]
    public void Metrics_match_a_hand_count()
    {
        // Class 0: two images, one right. Class 1: one image, right. Class 2: one image, wrong, its label ranked third.
        var predictions = new[]
        {
            new ImagePrediction(0, 0, [3f, 1f, 0f]),
            new ImagePrediction(0, 1, [1f, 2f, 0f]),
            new ImagePrediction(1, 1, [0f, 5f, 1f]),
            new ImagePrediction(2, 0, [2f, 1f, 0f]),
        };
        var metrics = new AcpContext().MulticlassClassification.Evaluate(predictions, topKPredictionCount: 2);
        Assert.Equal(0.5, metrics.MicroAccuracy, 12);
        Assert.Equal((0.5 + 1 + 0) / 3, metrics.MacroAccuracy, 12);
        Assert.Equal(0.75, metrics.TopKAccuracy, 12);
        Assert.Equal(2, metrics.TopKPredictionCount);
        Assert.Equal(4, metrics.Count);
        Assert.Equal(1.0, new AcpContext().MulticlassClassification.Evaluate(predictions, topKPredictionCount: 9).TopKAccuracy, 12);
    }

    [Fact]
    public void Probabilities_are_the_softmax_of_the_scores()
    {
        var p = new ImagePrediction(0, 1, [1f, 2f, 3f]).Probabilities();
        var z = Math.Exp(1) + Math.Exp(2) + Math.Exp(3);
        Assert.Equal(Math.Exp(2) / z, p[1], 6);
        Assert.Equal(1.0, p.Sum(), 6);
    }
}
