using Acp.Data;
using Acp.Engine.Execution;
using Acp.Engine.Training;
using Acp.Onnx.Ir;

namespace Acp.Engine.Tests.Training;

/// <summary>The engine learns real data, and the same seed gives the same weights to the bit.</summary>
public sealed class LearningTests
{
    private const string FashionMnist = "/usr/share/datasets/fashion-mnist";

    private static (Network Network, OnnxModel Model) Train(IImageDataset data, int seed, int epochs = 1)
    {
        var model = SmallCnn.Create(seed);
        var network = Network.Build(model, seed);
        var loader = new BatchLoader(data, new BatchLoaderOptions
        {
            BatchSize = 64, Shuffle = true, DropLast = true, Seed = seed, Normalization = ChannelNormalization.FashionMnist,
        });
        var trainer = new Trainer(network, loader, new TrainingOptions
        {
            Epochs = epochs,
            Schedule = new CosineSchedule(0.05f),
            Sgd = new SgdOptions { Momentum = 0.9f, WeightDecay = 5e-4f, Nesterov = true },
        });
        for (var epoch = 0; epoch < epochs; epoch++) trainer.TrainEpoch(epoch);
        return (network, model);
    }

    [Fact]
    public void One_epoch_on_fashion_mnist_reaches_85_percent_test_accuracy()
    {
        var (network, _) = Train(DatasetFolder.Open(FashionMnist, DatasetSplit.Train), seed: 1);

        var test = DatasetFolder.Open(FashionMnist, DatasetSplit.Test);
        var result = Evaluation.Accuracy(network, new BatchLoader(test, new BatchLoaderOptions { BatchSize = 500, Normalization = ChannelNormalization.FashionMnist }).GetBatches(0));

        Assert.Equal(10_000, result.Images);
        Assert.True(result.Top1 >= 0.85, $"test accuracy {result.Top1:P2} after one epoch");
    }

    [Fact]
    public void Same_seed_gives_bit_identical_weights()
    {
        var subset = DatasetFolder.Open(FashionMnist, DatasetSplit.Train, limit: 1500);
        var (first, firstModel) = Train(subset, seed: 7);
        var (second, secondModel) = Train(subset, seed: 7);
        var (other, _) = Train(subset, seed: 8);

        first.WriteWeightsTo(firstModel);
        second.WriteWeightsTo(secondModel);
        Assert.Equal(firstModel.ToBytes(), secondModel.ToBytes());
        Assert.False(first.Parameters[0].Value.Data.AsSpan().SequenceEqual(other.Parameters[0].Value.Data), "a different seed should train differently");
    }

    [Fact]
    public void Written_back_weights_reproduce_the_trained_network()
    {
        var subset = DatasetFolder.Open(FashionMnist, DatasetSplit.Train, limit: 500);
        var (network, model) = Train(subset, seed: 3);
        network.WriteWeightsTo(model);
        var reloaded = Network.Build(OnnxModel.FromBytes(model.ToBytes()));
        var input = new float[4 * 784];
        for (var i = 0; i < input.Length; i++) input[i] = (i % 97) / 97f;

        network.Training = false;
        var expected = network.Forward([4, 1, 28, 28], input).Data.ToArray();
        var actual = reloaded.Forward([4, 1, 28, 28], input).Data;

        Assert.Equal(expected, actual);
    }
}
