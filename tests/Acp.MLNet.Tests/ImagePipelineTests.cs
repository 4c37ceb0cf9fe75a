using System.Diagnostics;
using System.Globalization;
using Acp.MLNet.Tests.Support;
using Acp.Pruning.Pipeline;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;
using Microsoft.ML.Transforms.Image;

namespace Acp.MLNet.Tests;

/// <summary>
/// The pipeline an ML.NET user writes: PNG files → LoadImages → ResizeImages → ConvertToGrayscale → ExtractPixels →
/// PruneChannels; Fit prunes once (in the fixture), and the facts check what the fitted model does.
/// </summary>
public sealed class ImagePipelineTests(ImagePipelineTests.Fitted fitted) : IClassFixture<ImagePipelineTests.Fitted>
{
    /// <summary>Writes a few hundred Fashion-MNIST images as PNG files and fits the pipeline on the first ones.</summary>
    public sealed class Fitted : IDisposable
    {
        public const int TrainRows = 500;
        public const int TestRows = 100;

        public Fitted()
        {
            var (images, labels) = Scenario.Images(TrainRows + TestRows);
            Images = images;
            Labels = labels;
            var rows = new ImageRow[images.Length];
            for (var i = 0; i < images.Length; i++)
            {
                var name = $"{i:D4}.png";
                PngWriter.WriteGray(Folder.File(name), images[i], 28, 28);
                rows[i] = new ImageRow { ImagePath = name, Label = labels[i] };
            }
            Train = Ml.Data.LoadFromEnumerable(rows[..TrainRows]);
            Test = Ml.Data.LoadFromEnumerable(rows[TrainRows..]);
            File.WriteAllLines(Folder.File("test.tsv"), rows[TrainRows..].Select(r => $"{Folder.File(r.ImagePath)}\t{r.Label}"));
            ModelPath = Scenario.WriteModel(Folder.Path);

            var ml = Ml;
            var pipeline = ml.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue)
                .Append(ml.Transforms.LoadImages("Image", Folder.Path, "ImagePath"))
                .Append(ml.Transforms.ResizeImages("Image", 28, 28))
                .Append(ml.Transforms.ConvertToGrayscale("Image"))
                .Append(ml.Transforms.ExtractPixels("Features", "Image", ImagePixelExtractingEstimator.ColorBits.Red,
                    scaleImage: 1f / (0.353f * 255f), offsetImage: 0.286f * 255f))
                .Append(ml.Transforms.PruneChannels(new PruneChannelsOptions { ModelPath = ModelPath, Pruning = Scenario.Fast() }));
            Model = pipeline.Fit(Train);
        }

        public MLContext Ml { get; } = new(seed: 1);

        public TempFolder Folder { get; } = new();

        public byte[][] Images { get; }

        public uint[] Labels { get; }

        public IDataView Train { get; }

        public IDataView Test { get; }

        public string ModelPath { get; }

        public TransformerChain<PruneChannelsTransformer> Model { get; }

        public PruneChannelsTransformer Pruning => Model.LastTransformer;

        public void Dispose()
        {
            Pruning.Dispose();
            Folder.Dispose();
        }
    }

    public sealed class ImageRow
    {
        public string ImagePath { get; set; } = "";

        public uint Label { get; set; }
    }

    [Fact]
    public void Fit_prunes_to_the_budget_and_the_scores_are_the_pruned_models_probabilities()
    {
        var summary = fitted.Pruning.Summary;
        Assert.True(summary.MacsFraction <= 0.5, $"MACs kept: {summary.MacsFraction:P1}");
        Assert.True(summary.PrunedParams < summary.OriginalParams);

        // Independent oracle: ONNX Runtime on the pruned classifier, fed pixels normalised by hand.
        var expected = Scenario.OrtProbabilities(fitted.Pruning.PrunedModel, fitted.Images[Fitted.TrainRows..]);
        var scores = Scenario.Vectors(fitted.Model.Transform(fitted.Test), "Score");
        Assert.Equal(expected.Length, scores.Length);
        for (var i = 0; i < scores.Length; i++)
        {
            Assert.Equal(10, scores[i].Length);
            for (var c = 0; c < 10; c++) Assert.True(Math.Abs(expected[i][c] - scores[i][c]) < 1e-4, $"row {i} class {c}: {scores[i][c]} vs ONNX Runtime {expected[i][c]}");
        }
    }

    [Fact]
    public void MulticlassClassification_Evaluate_sees_the_accuracy_of_the_predicted_labels()
    {
        var ml = fitted.Ml;
        var metrics = ml.MulticlassClassification.Evaluate(fitted.Model.Transform(fitted.Test), labelColumnName: "Label");

        var expected = Scenario.OrtProbabilities(fitted.Pruning.PrunedModel, fitted.Images[Fitted.TrainRows..]);
        var correct = expected.Where((p, i) => Array.IndexOf(p, p.Max()) == fitted.Labels[Fitted.TrainRows + i]).Count();
        Assert.Equal(correct / (double)Fitted.TestRows, metrics.MicroAccuracy, 6);
        Assert.True(metrics.MicroAccuracy > 0.5, $"accuracy {metrics.MicroAccuracy:P1} of the pruned small CNN");
        Assert.True(double.IsFinite(metrics.LogLoss) && metrics.LogLoss > 0);
    }

    [Fact]
    public void A_saved_model_loads_in_a_fresh_context_with_identical_scores()
    {
        var zip = fitted.Folder.File("saved-in-process.zip");
        fitted.Ml.Model.Save(fitted.Model, fitted.Train.Schema, zip);
        var before = Scenario.Vectors(fitted.Model.Transform(fitted.Test), "Score");

        var fresh = new MLContext(seed: 2);
        var loaded = fresh.Model.Load(zip, out var schema);
        Assert.NotNull(schema.GetColumnOrNull("ImagePath"));
        var after = Scenario.Vectors(loaded.Transform(fitted.Test), "Score");
        Assert.Equal(before, after);
        Assert.Equal(fitted.Ml.MulticlassClassification.Evaluate(fitted.Model.Transform(fitted.Test)).MicroAccuracy,
            fresh.MulticlassClassification.Evaluate(loaded.Transform(fitted.Test)).MicroAccuracy);
    }

    [Fact]
    public void A_program_without_any_Acp_assembly_loads_the_zip_and_scores_identically()
    {
        var zip = fitted.Folder.File("saved-for-child.zip");
        fitted.Ml.Model.Save(fitted.Model, fitted.Train.Schema, zip);
        var consumer = Path.Combine(AppContext.BaseDirectory.Replace("Acp.MLNet.Tests", "Acp.MLNet.Consumer"), "Acp.MLNet.Consumer.dll");
        Assert.True(File.Exists(consumer), $"the consumer is built with the tests: {consumer}");
        Assert.DoesNotContain(Directory.GetFiles(Path.GetDirectoryName(consumer)!, "Acp.*.dll"), f => !Path.GetFileName(f).StartsWith("Acp.MLNet.Consumer", StringComparison.Ordinal));

        var start = new ProcessStartInfo("dotnet", [consumer, zip, fitted.Folder.File("test.tsv")]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, error);

        var child = output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(',').Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray()).ToArray();
        Assert.Equal(Scenario.Vectors(fitted.Model.Transform(fitted.Test), "Score"), child);
    }

    [Fact]
    public void The_pruned_model_is_saved_atomically_and_refuses_to_overwrite()
    {
        var path = fitted.Folder.File("pruned.onnx");
        fitted.Pruning.SavePrunedModel(path);
        var reloaded = Acp.Onnx.Ir.OnnxModel.Load(path);
        Assert.Equal(fitted.Pruning.PrunedModel.ToBytes(), reloaded.ToBytes());
        Assert.Throws<IOException>(() => fitted.Pruning.SavePrunedModel(path));
        Assert.Empty(Directory.GetFiles(fitted.Folder.Path, ".pruned.onnx.*"));
    }
}
