using System.Globalization;
using Acp.Engine.Data;
using Acp.Onnx.Ir;
using Acp.Onnx.Tests.Support;
using Acp.Pruning.Pipeline;
using Acp.Pruning.Search;
using Acp.Pruning.Tests.Pipeline;

namespace Acp.MLNet.Tests.Support;

/// <summary>The small trained CNN, Fashion-MNIST subsets, fast pruning settings, and independent ways to score images.</summary>
internal static class Scenario
{
    public const string FashionMnist = TrainedSmallCnn.FashionMnist;
    public const float Mean = 0.2860f;
    public const float Std = 0.3530f;

    /// <summary>The trained CNN with its normalisation in the metadata, as the repo's training script writes it.</summary>
    public static OnnxModel ModelWithMetadata()
    {
        var model = TrainedSmallCnn.Model();
        model.Metadata.Add(KeyValuePair.Create("acp.mean", "0.2860"));
        model.Metadata.Add(KeyValuePair.Create("acp.std", "0.3530"));
        model.Metadata.Add(KeyValuePair.Create("acp.dataset", "fashion-mnist"));
        return model;
    }

    /// <summary>Writes <paramref name="model"/> into <paramref name="folder"/> and returns the path.</summary>
    public static string Write(OnnxModel model, string folder, string name = "small_cnn.onnx")
    {
        var path = Path.Combine(folder, name);
        File.WriteAllBytes(path, model.ToBytes());
        return path;
    }

    /// <summary>Settings that prune the small CNN in seconds (the pipeline tests' Small settings).</summary>
    public static PruneChannelsOptions Small(string modelPath, PruningStrategy strategy = PruningStrategy.Acp) => new()
    {
        ModelPath = modelPath,
        Strategy = strategy,
        TargetFlops = 0.5,
        ValidationImages = 1000,
        FitnessImages = 500,
        CalibrationImages = 100,
        RecalibrationImages = 256,
        Swarm = new PsoOptions { Particles = 4, Cycles = 2, MaxVelocityFraction = 0.25 },
        PaperFitnessEpochs = 1,
        Epochs = 1,
        BatchSize = 64,
        RoundTo = 2,
    };

    /// <summary>The images normalised by hand ((p/255 − mean)/std), independently of the library's loaders, as [N,1,28,28].</summary>
    public static float[] Normalised(IImageDataset data, int count)
    {
        var pixels = data.ImageShape.PixelCount;
        var result = new float[count * pixels];
        var image = new byte[pixels];
        for (var i = 0; i < count; i++)
        {
            data.ReadImage(i, image);
            for (var p = 0; p < pixels; p++) result[i * pixels + p] = (image[p] / 255f - Mean) / Std;
        }
        return result;
    }

    /// <summary>The model file run by a fresh ONNX Runtime session on hand-normalised images: [count, classes] scores.</summary>
    public static float[] OrtScores(string modelPath, IImageDataset data, int count)
    {
        using var session = OrtRun.Session(modelPath);
        return session.First(session.InputNames[0], Normalised(data, count), count, 1, 28, 28).Data;
    }

    public static string Text(float value) => value.ToString("R", CultureInfo.InvariantCulture);
}

/// <summary>A temporary folder deleted at dispose.</summary>
public sealed class TempFolder : IDisposable
{
    public TempFolder() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "acp-mlnet-" + Guid.NewGuid().ToString("N"));

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
