using Acp.Data;
using Acp.MLNet.Tests.Support;
using Acp.Onnx;
using Acp.Pruning.Pipeline;
using Microsoft.ML;

namespace Acp.MLNet.Tests;

/// <summary>What PruneChannels checks and resolves when it is called, before any data is read.</summary>
public sealed class OptionsTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly TransformsCatalog _transforms = new MLContext(seed: 1).Transforms;

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void The_simple_overload_leaves_unnamed_settings_at_the_pipelines_defaults()
    {
        var path = Scenario.WriteModel(_folder.Path);
        Assert.Equal(new PruningOptions { TargetFlops = 0.5 }, _transforms.PruneChannels(path, targetFlops: 0.5).Pruning);
        Assert.Equal(new PruningOptions { TargetFlops = 0.3, Epochs = 7 },
            _transforms.PruneChannels(modelPath: path, targetFlops: 0.3, featureColumnName: "F", labelColumnName: "L", epochs: 7).Pruning);
    }

    [Fact]
    public void The_options_overload_passes_the_pipelines_options_through_unchanged()
    {
        var pruning = Scenario.Fast(PruningStrategy.Ghfp) with { Seed = 99, TargetParams = 0.6, DistillationWeight = 0.1f };
        var estimator = _transforms.PruneChannels(new PruneChannelsOptions { Model = TrainedSmallCnnModel(), Pruning = pruning });
        Assert.Same(pruning, estimator.Pruning);
    }

    [Fact]
    public void Bad_settings_fail_at_once_naming_the_setting()
    {
        var path = Scenario.WriteModel(_folder.Path);
        var budget = Assert.Throws<ArgumentException>(() => _transforms.PruneChannels(path, targetFlops: 1.5));
        Assert.Equal(nameof(PruningOptions.TargetFlops), budget.ParamName);
        Assert.Contains("TargetFlops must be in (0, 1]", budget.Message);

        var normalised = Assert.Throws<ArgumentException>(() => _transforms.PruneChannels(new PruneChannelsOptions
        {
            ModelPath = path,
            Pruning = new PruningOptions { TargetFlops = 0.5, Normalization = ChannelNormalization.FashionMnist },
        }));
        Assert.Contains("model input already", normalised.Message);

        Assert.Contains("ModelPath or Model", Assert.Throws<ArgumentException>(() => _transforms.PruneChannels(new PruneChannelsOptions())).Message);
        Assert.Throws<FileNotFoundException>(() => _transforms.PruneChannels(_folder.File("missing.onnx"), 0.5));
        var notOnnx = _folder.File("not.onnx");
        File.WriteAllText(notOnnx, "this is not a model");
        Assert.Throws<OnnxModelException>(() => _transforms.PruneChannels(notOnnx, 0.5));
    }

    [Fact]
    public void Asking_for_a_GPU_without_CUDA_fails_before_pruning_and_says_what_to_reference()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Transforms.Conversion.MapValueToKey("Label", "Class").Fit(Scenario.FeatureRows(ml, 300)).Transform(Scenario.FeatureRows(ml, 300));
        var reported = new List<PruningProgress>();
        var estimator = ml.Transforms.PruneChannels(new PruneChannelsOptions
        {
            ModelPath = Scenario.WriteModel(_folder.Path),
            Pruning = Scenario.Fast(PruningStrategy.L1) with { Epochs = 0 },
            GpuDeviceId = 0,
            Progress = new Progress<PruningProgress>(reported.Add),
        });
        var error = Assert.Throws<InvalidOperationException>(() => estimator.Fit(data));
        Assert.Contains("Microsoft.ML.OnnxRuntime.Gpu.Linux", error.Message);
        Assert.Contains("FallbackToCpu", error.Message);
        Assert.DoesNotContain('\n', error.Message);
        Assert.Empty(reported);
    }

    [Fact]
    public void With_FallbackToCpu_a_GPU_request_scores_on_the_CPU_like_a_CPU_run()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Transforms.Conversion.MapValueToKey("Label", "Class").Fit(Scenario.FeatureRows(ml, 300)).Transform(Scenario.FeatureRows(ml, 300));
        float[][] Scores(int? gpu)
        {
            using var model = ml.Transforms.PruneChannels(new PruneChannelsOptions
            {
                ModelPath = Scenario.WriteModel(_folder.Path),
                Pruning = Scenario.Fast(PruningStrategy.L1) with { Epochs = 0 },
                GpuDeviceId = gpu,
                FallbackToCpu = true,
            }).Fit(data);
            return Scenario.Vectors(model.Transform(data), "Score");
        }
        Assert.Equal(Scores(null), Scores(0));
    }

    private static Acp.Onnx.Ir.OnnxModel TrainedSmallCnnModel() => Acp.Pruning.Tests.Pipeline.TrainedSmallCnn.Model();
}
