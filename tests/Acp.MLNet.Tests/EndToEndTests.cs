using Acp.Engine.Data;
using Acp.Engine.Execution;
using Acp.MLNet.Tests.Support;
using Acp.Onnx.Analysis;
using Acp.Onnx.Ir;
using Acp.Onnx.Runtime;
using Acp.Pruning.Pipeline;
using Xunit.Abstractions;

namespace Acp.MLNet.Tests;

/// <summary>One PruneChannels → Fit → Transform → Save run on the small CNN, shared by the tests that inspect it.</summary>
public sealed class PrunedSmallCnn : IDisposable
{
    public const int TestImages = 500;

    public PrunedSmallCnn()
    {
        Context.Log += (_, e) => Log.Add(e);
        ModelPath = Scenario.Write(Scenario.ModelWithMetadata(), Folder.Path);
        Train = Context.Data.LoadImages(Scenario.FashionMnist, DatasetSplit.Train, limit: 6000);
        Test = Context.Data.LoadImages(Scenario.FashionMnist, DatasetSplit.Test, limit: TestImages);
        var options = Scenario.Small(ModelPath);
        options.Progress = new SynchronousProgress<PruningProgress>(Progress.Add);
        Estimator = Context.Transforms.PruneChannels(options);
        Transformer = Estimator.Fit(Train);
        Predictions = Transformer.Transform(Test);
        SavedPath = Folder.File("small_cnn.pruned.onnx");
        Transformer.Save(SavedPath);
    }

    public TempFolder Folder { get; } = new();
    public AcpContext Context { get; } = new(seed: 3);
    public List<AcpLogEventArgs> Log { get; } = [];
    public List<PruningProgress> Progress { get; } = [];
    public string ModelPath { get; }
    public ImageDataView Train { get; }
    public ImageDataView Test { get; }
    public PruneChannelsEstimator Estimator { get; }
    public PruneChannelsTransformer Transformer { get; }
    public IReadOnlyList<ImagePrediction> Predictions { get; }
    public string SavedPath { get; }

    public void Dispose()
    {
        Transformer.Dispose();
        Folder.Dispose();
    }
}

/// <summary>IProgress that reports on the calling thread (Progress&lt;T&gt; would post to the thread pool).</summary>
internal sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}

public sealed class EndToEndTests(PrunedSmallCnn run, ITestOutputHelper output) : IClassFixture<PrunedSmallCnn>
{
    [Fact]
    public void The_saved_model_runs_in_onnx_runtime_and_gives_the_scores_transform_returned()
    {
        output.WriteLine(run.Transformer.Summary.ToString());
        var ort = Scenario.OrtScores(run.SavedPath, run.Test.Dataset, PrunedSmallCnn.TestImages);
        Assert.Equal(PrunedSmallCnn.TestImages, run.Predictions.Count);
        for (var i = 0; i < run.Predictions.Count; i++)
        {
            var p = run.Predictions[i];
            Assert.Equal(run.Test.Dataset.Label(i), p.Label);
            Assert.Equal(10, p.Score.Length);
            for (var c = 0; c < 10; c++)
            {
                var expected = ort[i * 10 + c];
                Assert.True(Math.Abs(p.Score[c] - expected) <= 1e-4f * (1 + Math.Abs(expected)), $"image {i} class {c}: Transform {p.Score[c]}, ORT {expected}");
            }
            Assert.Equal(Array.IndexOf(p.Score, p.Score.Max()), p.PredictedLabel);
        }
    }

    [Fact]
    public void The_engine_agrees_with_transform_on_the_saved_model()
    {
        var network = Network.Build(OnnxModel.Load(run.SavedPath));
        const int count = 64;
        var engine = network.Forward([count, 1, 28, 28], Scenario.Normalised(run.Test.Dataset, count)).Data;
        for (var i = 0; i < count; i++)
        {
            for (var c = 0; c < 10; c++)
            {
                var score = run.Predictions[i].Score[c];
                Assert.True(Math.Abs(engine[i * 10 + c] - score) <= 1e-3f * (1 + Math.Abs(score)), $"image {i} class {c}: engine {engine[i * 10 + c]}, Transform {score}");
            }
        }
    }

    [Fact]
    public void The_summary_counts_what_the_saved_model_costs_and_it_is_within_the_budget()
    {
        var saved = OnnxModel.Load(run.SavedPath);
        var original = OnnxModel.Load(run.ModelPath);
        var savedCost = ModelCost.Compute(saved, ShapeInference.Run(saved));
        var originalCost = ModelCost.Compute(original, ShapeInference.Run(original));
        var summary = run.Transformer.Summary;
        Assert.Equal(savedCost.TotalMacs, summary.PrunedMacs);
        Assert.Equal(savedCost.TotalParams, summary.PrunedParams);
        Assert.Equal(originalCost.TotalMacs, summary.OriginalMacs);
        Assert.Equal(originalCost.TotalParams, summary.OriginalParams);
        Assert.True(savedCost.TotalMacs <= 0.5 * originalCost.TotalMacs, $"{savedCost.TotalMacs} MACs is over half of {originalCost.TotalMacs}");
        Assert.True(new FileInfo(run.SavedPath).Length < new FileInfo(run.ModelPath).Length);
        Assert.Equal(0.5, summary.TargetFlops);
        Assert.InRange(summary.PrunedValidationAccuracy!.Value, summary.OriginalValidationAccuracy!.Value - 0.08, 1);
    }

    [Fact]
    public void Evaluate_reports_the_accuracy_of_the_labels_against_onnx_runtime_predictions()
    {
        var ort = Scenario.OrtScores(run.SavedPath, run.Test.Dataset, PrunedSmallCnn.TestImages);
        var correct = 0;
        for (var i = 0; i < PrunedSmallCnn.TestImages; i++)
        {
            var row = ort.AsSpan(i * 10, 10).ToArray();
            if (Array.IndexOf(row, row.Max()) == run.Test.Dataset.Label(i)) correct++;
        }
        var metrics = run.Transformer.Evaluate(run.Test);
        var original = run.Transformer.EvaluateOriginal(run.Test);
        output.WriteLine($"pruned {metrics}; original {original}");
        Assert.Equal((double)correct / PrunedSmallCnn.TestImages, metrics.MicroAccuracy, 12);
        Assert.Equal(PrunedSmallCnn.TestImages, metrics.Count);
        Assert.True(metrics.MicroAccuracy > 0.6, $"accuracy {metrics.MicroAccuracy}");
        Assert.InRange(metrics.MicroAccuracy, original.MicroAccuracy - 0.1, 1);
        Assert.Equal(metrics.MicroAccuracy, run.Transformer.Summary.TestAccuracy);
        Assert.Equal(original.MicroAccuracy, run.Transformer.Summary.OriginalTestAccuracy);
    }

    [Fact]
    public void The_saved_model_carries_its_normalisation_and_loads_back_to_the_same_predictions()
    {
        var saved = OnnxModel.Load(run.SavedPath);
        Assert.Contains(KeyValuePair.Create("acp.mean", Scenario.Text(Scenario.Mean)), saved.Metadata);
        Assert.Contains(KeyValuePair.Create("acp.std", Scenario.Text(Scenario.Std)), saved.Metadata);
        Assert.Contains(KeyValuePair.Create("acp.dataset", "fashion-mnist"), saved.Metadata);
        using var loaded = run.Context.Model.Load(run.SavedPath);
        Assert.Equal([Scenario.Mean], loaded.Normalization.Mean);
        Assert.Equal([Scenario.Std], loaded.Normalization.Std);
        var again = loaded.Transform(run.Test);
        Assert.Equal(run.Predictions.Select(p => p.Score), again.Select(p => p.Score));
        loaded.Dispose();
        Assert.Throws<ObjectDisposedException>(() => loaded.Transform(run.Test));
    }

    [Fact]
    public void Save_refuses_to_overwrite_unless_told_and_leaves_no_temporary_file()
    {
        var path = run.Folder.File("twice.onnx");
        run.Transformer.Save(path);
        File.WriteAllBytes(path, [1, 2, 3]);
        var error = Assert.Throws<IOException>(() => run.Transformer.Save(path));
        Assert.Contains("overwrite", error.Message);
        Assert.Equal([1, 2, 3], File.ReadAllBytes(path));
        run.Transformer.Save(path, overwrite: true);
        Assert.Equal(File.ReadAllBytes(run.SavedPath), File.ReadAllBytes(path));
        Assert.DoesNotContain(Directory.EnumerateFiles(run.Folder.Path), f => f.EndsWith(".tmp", StringComparison.Ordinal));
    }

    [Fact]
    public void Progress_and_the_context_log_see_every_stage_in_order()
    {
        var stages = run.Progress.Select(p => p.Stage).Distinct().ToArray();
        Assert.Equal([PruningStage.Calibrating, PruningStage.Clustering, PruningStage.Searching, PruningStage.Finalists, PruningStage.FineTuning, PruningStage.Exporting], stages);
        Assert.Equal(run.Progress.Count, run.Log.Count(e => e.Progress is not null));
        Assert.Contains(run.Log, e => e.Kind == AcpLogKind.Info && e.Message.Contains("validation accuracy", StringComparison.Ordinal));
    }

    [Fact]
    public void Transform_refuses_data_of_another_shape_or_normalisation()
    {
        var cifarLike = new ImageDataView(new InMemoryImageDataset(new ImageShape(3, 32, 32), 10, new byte[2 * 3072], [0, 1]));
        var shape = Assert.Throws<ArgumentException>(() => run.Transformer.Transform(cifarLike));
        Assert.Equal("input", shape.ParamName);
        Assert.Contains("3×32×32", shape.Message);
        Assert.Contains("1×28×28", shape.Message);

        var other = run.Test.WithNormalization(ChannelNormalization.Mnist);
        var normalisation = Assert.Throws<ArgumentException>(() => run.Transformer.Transform(other));
        Assert.Equal("input", normalisation.ParamName);
        // The same statistics given explicitly are accepted.
        Assert.Equal(PrunedSmallCnn.TestImages, run.Transformer.Transform(run.Test.WithNormalization(new ChannelNormalization([Scenario.Mean], [Scenario.Std]))).Count);
    }

    [Fact]
    public void The_output_schema_adds_scores_and_predicted_label_and_checks_the_image_column()
    {
        var schema = run.Transformer.GetOutputSchema(run.Test.Schema);
        Assert.Equal(["Image", "Label", "Score", "PredictedLabel"], schema.Columns.Select(c => c.Name));
        Assert.Equal([10], schema["Score"].Dimensions);
        Assert.Equal(10, schema["PredictedLabel"].KeyCount);
        Assert.Equal(schema.ToString(), run.Estimator.GetOutputSchema(run.Train.Schema).ToString());
        var wrong = ImageSchema.ForImages(3, 28, 28, 10);
        Assert.Equal("inputSchema", Assert.Throws<ArgumentException>(() => run.Estimator.GetOutputSchema(wrong)).ParamName);
    }

    [Fact]
    public void Latency_is_measured_on_demand_for_both_models()
    {
        // Nothing else measures latency: the run itself does not.
        Assert.Null(run.Transformer.Summary.PrunedLatencyMilliseconds);
        var latency = run.Transformer.MeasureLatency(runs: 5);
        Assert.True(latency.OriginalMilliseconds > 0 && latency.PrunedMilliseconds > 0);
        Assert.Equal(latency.PrunedMilliseconds, run.Transformer.Summary.PrunedLatencyMilliseconds);
        Assert.Equal(latency.OriginalMilliseconds / latency.PrunedMilliseconds, run.Transformer.Summary.Speedup!.Value, 12);
        Assert.Contains("ORT latency", run.Transformer.Summary.ToString());
    }
}
