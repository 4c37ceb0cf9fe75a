using Acp.Data;
using Acp.Engine.Execution;
using Acp.Engine.Training;
using Acp.Engine.Tests.Training;
using Acp.Onnx.Ir;

namespace Acp.Pruning.Tests.Pipeline;

/// <summary>
/// A small CNN trained for one epoch on a Fashion-MNIST subset (a few seconds), shared by the pipeline tests: pruning
/// an untrained network would test nothing about accuracy.
/// </summary>
internal static class TrainedSmallCnn
{
    public const string FashionMnist = "/usr/share/datasets/fashion-mnist";
    public const int TrainingImages = 6000;

    private static readonly Lazy<byte[]> Trained = new(Train);

    /// <summary>A fresh copy of the trained model.</summary>
    public static OnnxModel Model() => OnnxModel.FromBytes(Trained.Value);

    /// <summary>The training subset it was trained on.</summary>
    public static IImageDataset Data()
    {
        if (!File.Exists(Path.Combine(FashionMnist, "train-images-idx3-ubyte.gz")) && !Directory.Exists(FashionMnist))
        {
            throw new InvalidOperationException($"Fashion-MNIST is missing from {FashionMnist}; run scripts/setup.sh (Debian package dataset-fashion-mnist).");
        }
        return DatasetFolder.Open(FashionMnist, DatasetSplit.Train, TrainingImages);
    }

    private static byte[] Train()
    {
        var model = SmallCnn.Create(seed: 7);
        var network = Network.Build(model, seed: 7);
        var loader = new BatchLoader(Data(), new BatchLoaderOptions { BatchSize = 64, Shuffle = true, Seed = 7, Normalization = ChannelNormalization.FashionMnist, DropLast = true });
        var trainer = new Trainer(network, loader, new TrainingOptions { Epochs = 2, Schedule = new CosineSchedule(0.05f) });
        for (var epoch = 0; epoch < 2; epoch++) trainer.TrainEpoch(epoch);
        network.WriteWeightsTo(model);
        return model.ToBytes();
    }
}
