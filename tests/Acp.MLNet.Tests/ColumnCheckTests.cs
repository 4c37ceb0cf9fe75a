using System.Diagnostics;
using Acp.MLNet.Tests.Support;
using Acp.Pruning.Pipeline;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Acp.MLNet.Tests;

/// <summary>Data that do not fit the model are refused with one line, before any pruning work starts.</summary>
public sealed class ColumnCheckTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly MLContext _ml = new(seed: 1);
    private readonly List<PruningProgress> _progress = [];

    public void Dispose() => _folder.Dispose();

    private PruneChannelsEstimator Estimator(string label = "Label") => _ml.Transforms.PruneChannels(new PruneChannelsOptions
    {
        ModelPath = Scenario.WriteModel(_folder.Path),
        LabelColumnName = label,
        Pruning = Scenario.Fast(PruningStrategy.L1),
        Progress = new SynchronousProgress(_progress.Add),
    });

    private ArgumentException Refused(IDataView data, string label = "Label")
    {
        var estimator = Estimator(label);
        var clock = Stopwatch.StartNew();
        var error = Assert.ThrowsAny<ArgumentException>(() => estimator.Fit(data));
        Assert.DoesNotContain('\n', error.Message);
        Assert.Empty(_progress);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"refused after {clock.Elapsed}");
        return error;
    }

    private IDataView Keyed(IDataView data) => _ml.Transforms.Conversion.MapValueToKey("Label", "Class").Fit(data).Transform(data);

    [Fact]
    public void A_missing_feature_column_is_named()
    {
        var rows = Enumerable.Range(0, 50).Select(i => new PixelsRow { Pixels = new float[784], Class = (uint)(i % 10) });
        var error = Refused(Keyed(_ml.Data.LoadFromEnumerable(rows)));
        Assert.Contains("no feature column 'Features'", error.Message);
        Assert.Contains("'Pixels'", error.Message);
    }

    [Fact]
    public void Features_of_the_wrong_size_say_what_the_model_takes()
    {
        var rows = Enumerable.Range(0, 50).Select(i => new SmallRow { Features = new float[27 * 27], Class = (uint)(i % 10) });
        var error = Refused(Keyed(_ml.Data.LoadFromEnumerable(rows)));
        Assert.Contains("729", error.Message);
        Assert.Contains("784", error.Message);
    }

    [Fact]
    public void Features_that_are_not_floats_are_refused()
    {
        var rows = Enumerable.Range(0, 50).Select(i => new ByteRow { Features = new byte[784], Class = (uint)(i % 10) });
        var error = Refused(Keyed(_ml.Data.LoadFromEnumerable(rows)));
        Assert.Contains("Single vector", error.Message);
    }

    [Fact]
    public void A_text_label_must_become_a_key_first()
    {
        var rows = Enumerable.Range(0, 50).Select(i => new TextLabelRow { Features = new float[784], Label = $"class {i % 10}" });
        var error = Refused(_ml.Data.LoadFromEnumerable(rows));
        Assert.Contains("MapValueToKey", error.Message);
    }

    [Fact]
    public void A_key_count_other_than_the_class_count_is_refused()
    {
        var rows = Enumerable.Range(0, 50).Select(i => new FeatureRow { Features = new float[784], Class = (uint)(i % 5) });
        var error = Refused(Keyed(_ml.Data.LoadFromEnumerable(rows)));
        Assert.Contains("5 keys", error.Message);
        Assert.Contains("10 classes", error.Message);
    }

    [Fact]
    public void An_unlabelled_row_is_named()
    {
        var data = Scenario.FeatureRows(_ml, 100);
        // Keys learned from classes 0..9 of other rows; a row whose class is outside them gets the missing key 0.
        var keys = _ml.Data.LoadFromEnumerable(Enumerable.Range(0, 10).Select(c => new ClassRow { Class = (uint)c }));
        var withUnknown = _ml.Data.LoadFromEnumerable(Scenario.Vectors(data, "Features").Select((f, i) => new FeatureRow { Features = f, Class = i == 7 ? 42u : (uint)(i % 10) }));
        var keyed = _ml.Transforms.Conversion.MapValueToKey("Label", "Class", keyData: keys).Fit(withUnknown).Transform(withUnknown);
        var error = Refused(keyed);
        Assert.Contains("Row 7", error.Message);
    }

    [Fact]
    public void GetOutputSchema_checks_the_same_columns_and_names_the_outputs()
    {
        var data = Keyed(Scenario.FeatureRows(_ml, 20));
        var shape = Shape(data.Schema);
        var output = Estimator().GetOutputSchema(shape);
        Assert.Contains(output, c => c.Name == "Score" && c.ItemType == NumberDataViewType.Single && c.Kind == SchemaShape.Column.VectorKind.Vector);
        Assert.Contains(output, c => c.Name == "PredictedLabel" && c.IsKey);
        Assert.DoesNotContain(output, c => c.Name == "PredictedLabel.Index");

        var wrong = Shape(_ml.Data.LoadFromEnumerable(new[] { new TextLabelRow { Features = new float[784], Label = "x" } }).Schema);
        var estimator = Estimator();
        Assert.Contains("MapValueToKey", Assert.ThrowsAny<ArgumentException>(() => estimator.GetOutputSchema(wrong)).Message);
    }

    // ML.NET builds a SchemaShape from a schema internally (as pipelines do before fitting); tests reach it the same way.
    private static SchemaShape Shape(DataViewSchema schema) =>
        (SchemaShape)typeof(SchemaShape).GetMethod("Create", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static, [typeof(DataViewSchema)])!
            .Invoke(null, [schema])!;

    private sealed class SynchronousProgress(Action<PruningProgress> report) : IProgress<PruningProgress>
    {
        public void Report(PruningProgress value) => report(value);
    }

    private sealed class PixelsRow
    {
        [VectorType(1, 28, 28)]
        public float[] Pixels { get; set; } = [];

        public uint Class { get; set; }
    }

    private sealed class SmallRow
    {
        [VectorType(1, 27, 27)]
        public float[] Features { get; set; } = [];

        public uint Class { get; set; }
    }

    private sealed class ByteRow
    {
        [VectorType(1, 28, 28)]
        public byte[] Features { get; set; } = [];

        public uint Class { get; set; }
    }

    private sealed class TextLabelRow
    {
        [VectorType(1, 28, 28)]
        public float[] Features { get; set; } = [];

        public string Label { get; set; } = "";
    }

    private sealed class ClassRow
    {
        public uint Class { get; set; }
    }
}
