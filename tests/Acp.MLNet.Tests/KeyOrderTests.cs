using Acp.MLNet.Tests.Support;
using Acp.Pruning.Pipeline;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;

namespace Acp.MLNet.Tests;

/// <summary>Whatever order MapValueToKey gives the label's keys, scores and predicted keys mean the same classes.</summary>
public sealed class KeyOrderTests
{
    private const int Rows = 400;

    [Theory]
    [InlineData(ValueToKeyMappingEstimator.KeyOrdinality.ByValue)]
    [InlineData(ValueToKeyMappingEstimator.KeyOrdinality.ByOccurrence)]
    public void Predicted_keys_and_score_slots_map_to_the_models_classes(ValueToKeyMappingEstimator.KeyOrdinality ordering)
    {
        using var folder = new TempFolder();
        var ml = new MLContext(seed: 1);
        var data = Scenario.FeatureRows(ml, Rows);
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label", "Class", keyOrdinality: ordering)
            .Append(ml.Transforms.PruneChannels(new PruneChannelsOptions
            {
                ModelPath = Scenario.WriteModel(folder.Path),
                Pruning = Scenario.Fast(PruningStrategy.L1) with { Epochs = 0 },
            }));
        var model = pipeline.Fit(data);
        using var pruning = model.LastTransformer;
        var scored = model.Transform(data);

        // The key values say which class each key stands for (they are the Class numbers MapValueToKey saw).
        var keyValues = default(VBuffer<uint>);
        scored.Schema["Label"].GetKeyValues(ref keyValues);
        var classOfKey = keyValues.DenseValues().Select(v => (int)v).ToArray();
        if (ordering == ValueToKeyMappingEstimator.KeyOrdinality.ByOccurrence) Assert.NotEqual(Enumerable.Range(0, 10), classOfKey);

        var (images, labels) = Scenario.Images(Rows);
        var oracle = Scenario.OrtProbabilities(pruning.PrunedModel, images);
        var scores = Scenario.Vectors(scored, "Score");
        var predicted = scored.GetColumn<uint[]>("PredictedLabel").Select(k => Assert.Single(k)).ToArray();
        // The predicted key carries the label's key values, so MapKeyToValue gives back the Class numbers.
        var values = ml.Transforms.Conversion.MapKeyToValue("PredictedClass", "PredictedLabel").Fit(scored).Transform(scored)
            .GetColumn<uint[]>("PredictedClass").Select(v => Assert.Single(v)).ToArray();
        for (var i = 0; i < Rows; i++)
        {
            var best = Array.IndexOf(oracle[i], oracle[i].Max());
            Assert.Equal(best, classOfKey[predicted[i] - 1]);
            Assert.Equal((uint)best, values[i]);
            for (var slot = 0; slot < 10; slot++) Assert.True(Math.Abs(oracle[i][classOfKey[slot]] - scores[i][slot]) < 1e-5, $"row {i}, slot {slot}");
        }

        var accuracy = ml.MulticlassClassification.Evaluate(scored, labelColumnName: "Label").MicroAccuracy;
        var correct = oracle.Where((p, i) => Array.IndexOf(p, p.Max()) == labels[i]).Count();
        Assert.Equal(correct / (double)Rows, accuracy, 6);
    }

    [Fact]
    public void Text_labels_come_back_as_text_through_MapKeyToValue()
    {
        using var folder = new TempFolder();
        var ml = new MLContext(seed: 1);
        var (images, labels) = Scenario.Images(300);
        // Class names whose order by value is the class order, as folder names of an image data set usually are.
        var data = ml.Data.LoadFromEnumerable(images.Select((image, i) => new NamedRow { Features = Scenario.Normalised(image), Name = $"class-{labels[i]}" }).ToArray());
        var model = ml.Transforms.Conversion.MapValueToKey("Label", "Name", keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue)
            .Append(ml.Transforms.PruneChannels(new PruneChannelsOptions
            {
                ModelPath = Scenario.WriteModel(folder.Path),
                Pruning = Scenario.Fast(PruningStrategy.L1) with { Epochs = 0 },
            }))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedName", "PredictedLabel"))
            .Fit(data);
        using var pruning = model.OfType<PruneChannelsTransformer>().Single();
        var names = model.Transform(data).GetColumn<string[]>("PredictedName").Select(n => Assert.Single(n)).ToArray();
        var oracle = Scenario.OrtProbabilities(pruning.PrunedModel, images);
        Assert.Equal(oracle.Select(p => $"class-{Array.IndexOf(p, p.Max())}"), names);
    }

    private sealed class NamedRow
    {
        [VectorType(1, 28, 28)]
        public float[] Features { get; set; } = [];

        public string Name { get; set; } = "";
    }

    [Fact]
    public void A_numeric_class_index_label_works_without_keys()
    {
        using var folder = new TempFolder();
        var ml = new MLContext(seed: 1);
        var data = Scenario.FeatureRows(ml, 300);
        var estimator = ml.Transforms.PruneChannels(new PruneChannelsOptions
        {
            ModelPath = Scenario.WriteModel(folder.Path),
            LabelColumnName = "Class",
            Pruning = Scenario.Fast(PruningStrategy.L1) with { Epochs = 0 },
        });
        using var model = estimator.Fit(data);
        var predicted = model.Transform(data).GetColumn<uint[]>("PredictedLabel").Select(k => Assert.Single(k)).ToArray();
        var oracle = Scenario.OrtProbabilities(model.PrunedModel, Scenario.Images(300).Images);
        Assert.Equal(oracle.Select(p => (uint)Array.IndexOf(p, p.Max()) + 1), predicted);
    }
}
