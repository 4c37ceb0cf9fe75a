using System.Globalization;
using Acp.Data;
using Acp.Onnx.Ir;
using Acp.Pruning.Pipeline;
using Acp.Pruning.Search;
using Acp.Pruning.Tests.Pipeline;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Acp.MLNet.Tests.Support;

/// <summary>The small trained CNN, Fashion-MNIST rows as ML.NET sees them, fast pruning settings, and an independent scorer.</summary>
internal static class Scenario
{
    public const float Mean = 0.2860f;
    public const float Std = 0.3530f;

    /// <summary>Writes the trained small CNN (1×28×28 → 10 classes) into <paramref name="folder"/> and returns the path.</summary>
    public static string WriteModel(string folder, string name = "small_cnn.onnx")
    {
        var path = Path.Combine(folder, name);
        File.WriteAllBytes(path, TrainedSmallCnn.Model().ToBytes());
        return path;
    }

    /// <summary>Settings that prune the small CNN in seconds.</summary>
    public static PruningOptions Fast(PruningStrategy strategy = PruningStrategy.Acp) => new()
    {
        Strategy = strategy,
        TargetFlops = 0.5,
        ValidationImages = 200,
        FitnessImages = 200,
        CalibrationImages = 100,
        RecalibrationImages = 128,
        Swarm = new PsoOptions { Particles = 3, Cycles = 1, MaxVelocityFraction = 0.25 },
        Finalists = 1,
        FinalistSteps = 5,
        Epochs = 1,
        BatchSize = 64,
        RoundTo = 2,
    };

    /// <summary>The first <paramref name="count"/> Fashion-MNIST training images after <paramref name="skip"/> (bytes) and their classes.</summary>
    public static (byte[][] Images, uint[] Labels) Images(int count, int skip = 0)
    {
        var data = DatasetFolder.Open(TrainedSmallCnn.FashionMnist, DatasetSplit.Train, skip + count);
        var images = new byte[count][];
        var labels = new uint[count];
        for (var i = 0; i < count; i++)
        {
            images[i] = new byte[data.ImageShape.PixelCount];
            data.ReadImage(skip + i, images[i]);
            labels[i] = (uint)data.Label(skip + i);
        }
        return (images, labels);
    }

    /// <summary>Normalised by hand, (p/255 − mean)/std, independently of Acp's loaders and of ML.NET's ExtractPixels.</summary>
    public static float[] Normalised(byte[] image) => image.Select(p => (p / 255f - Mean) / Std).ToArray();

    /// <summary>Rows of ready features: what LoadFromEnumerable gives an ML.NET user who normalised the pixels already.</summary>
    public static IDataView FeatureRows(MLContext ml, int count, int skip = 0)
    {
        var (images, labels) = Images(count, skip);
        return ml.Data.LoadFromEnumerable(images.Select((image, i) => new FeatureRow { Features = Normalised(image), Class = labels[i] }).ToArray());
    }

    /// <summary>Softmax of the model's outputs per image, from a fresh ONNX Runtime session (the independent oracle).</summary>
    public static float[][] OrtProbabilities(OnnxModel model, IEnumerable<byte[]> images)
    {
        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(model.ToBytes());
        var input = session.InputMetadata.Keys.Single();
        var output = session.OutputMetadata.Keys.First();
        return images.Select(image =>
        {
            var tensor = new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>(Normalised(image), [1, 1, 28, 28]);
            using var results = session.Run([Microsoft.ML.OnnxRuntime.NamedOnnxValue.CreateFromTensor(input, tensor)]);
            var logits = results.Single(r => r.Name == output).AsEnumerable<float>().ToArray();
            var max = logits.Max();
            var exp = logits.Select(l => Math.Exp(l - max)).ToArray();
            return exp.Select(e => (float)(e / exp.Sum())).ToArray();
        }).ToArray();
    }

    /// <summary>A column's float vectors, row by row.</summary>
    public static float[][] Vectors(IDataView data, string column) =>
        data.GetColumn<float[]>(column).ToArray();

    public static string Text(float value) => value.ToString("R", CultureInfo.InvariantCulture);
}

/// <summary>A row of ready model input and its class.</summary>
public sealed class FeatureRow
{
    [VectorType(1, 28, 28)]
    public float[] Features { get; set; } = [];

    public uint Class { get; set; }
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
