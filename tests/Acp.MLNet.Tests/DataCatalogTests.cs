using Acp.Data;
using Acp.MLNet.Tests.Support;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Acp.MLNet.Tests;

/// <summary>mlContext.Data.LoadImageDataset: Acp's readers as an IDataView.</summary>
public sealed class DataCatalogTests
{
    [Fact]
    public void Fashion_MNIST_rows_hold_normalised_pixels_and_class_keys()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadImageDataset(Acp.Pruning.Tests.Pipeline.TrainedSmallCnn.FashionMnist, DatasetSplit.Train, ChannelNormalization.FashionMnist, limit: 50);

        var features = data.Schema["Features"].Type as VectorDataViewType;
        Assert.NotNull(features);
        Assert.Equal([1, 28, 28], features.Dimensions.ToArray());
        var label = Assert.IsType<KeyDataViewType>(data.Schema["Label"].Type);
        Assert.Equal(10ul, label.Count);
        var keyValues = default(VBuffer<uint>);
        data.Schema["Label"].GetKeyValues(ref keyValues);
        Assert.Equal(Enumerable.Range(0, 10).Select(c => (uint)c), keyValues.DenseValues());

        var (images, labels) = Scenario.Images(50);
        var rows = data.GetColumn<float[]>("Features").ToArray();
        var keys = data.GetColumn<uint>("Label").ToArray();
        for (var i = 0; i < 50; i++)
        {
            Assert.Equal(labels[i] + 1, keys[i]);
            for (var p = 0; p < 784; p++) Assert.True(Math.Abs((images[i][p] / 255.0 - 0.2860) / 0.3530 - rows[i][p]) < 1e-5, $"image {i}, pixel {p}");
        }
    }

    [Fact]
    public void A_normalisation_for_other_channels_is_refused()
    {
        var ml = new MLContext(seed: 1);
        var error = Assert.Throws<ArgumentException>(() => ml.Data.LoadImageDataset(Acp.Pruning.Tests.Pipeline.TrainedSmallCnn.FashionMnist, DatasetSplit.Test, ChannelNormalization.Cifar10, limit: 5));
        Assert.Contains("3 channel", error.Message);
    }
}
