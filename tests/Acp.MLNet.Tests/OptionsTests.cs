using System.Reflection;
using Acp.Engine.Data;
using Acp.Engine.Tests.Training;
using Acp.MLNet.Tests.Support;
using Acp.Onnx;
using Acp.Onnx.Ir;
using Acp.Pruning.Pipeline;
using Acp.Pruning.Search;

namespace Acp.MLNet.Tests;

/// <summary>What PruneChannels checks and resolves before any data is read (no training happens here).</summary>
public sealed class OptionsTests
{
    private static PruneChannelsOptions With(OnnxModel? model = null) => new() { Model = model ?? SmallCnn.Create(seed: 1), TargetFlops = 0.5 };

    [Fact]
    public void Untouched_options_give_exactly_the_pipelines_defaults()
    {
        var estimator = new AcpContext().Transforms.PruneChannels(With());
        Assert.Equal(new PruningOptions { TargetMacs = 0.5 }, estimator.Options);
    }

    [Fact]
    public void The_shorthand_overload_leaves_unnamed_settings_at_the_pipelines_defaults()
    {
        using var folder = new TempFolder();
        var path = Scenario.Write(SmallCnn.Create(seed: 1), folder.Path);
        var transforms = new AcpContext().Transforms;

        Assert.Equal(new PruningOptions { TargetMacs = 0.5 }, transforms.PruneChannels(path).Options);
        Assert.Equal(
            new PruningOptions { TargetMacs = 0.3, Strategy = PruningStrategy.Random, Epochs = 7 },
            transforms.PruneChannels(path, targetFlops: 0.3, strategy: PruningStrategy.Random, epochs: 7).Options);
    }

    [Fact]
    public void Every_pipeline_setting_is_mirrored_and_passed_through()
    {
        var values = new Dictionary<string, object?>
        {
            [nameof(PruningOptions.Strategy)] = PruningStrategy.L1,
            [nameof(PruningOptions.TargetMacs)] = 0.3,
            [nameof(PruningOptions.TargetParams)] = 0.6,
            [nameof(PruningOptions.RoundTo)] = 4,
            [nameof(PruningOptions.Seed)] = 99,
            [nameof(PruningOptions.Normalization)] = ChannelNormalization.Mnist,
            [nameof(PruningOptions.ValidationImages)] = 123,
            [nameof(PruningOptions.ValidationFromTail)] = true,
            [nameof(PruningOptions.FitnessImages)] = 45,
            [nameof(PruningOptions.CalibrationImages)] = 67,
            [nameof(PruningOptions.Tap)] = FeatureTap.ConsumerInput,
            [nameof(PruningOptions.MinPoints)] = 3,
            [nameof(PruningOptions.Epsilon)] = 0.25,
            [nameof(PruningOptions.RecalibrationImages)] = 89,
            [nameof(PruningOptions.FitnessSteps)] = 5,
            [nameof(PruningOptions.FitnessTuningBatchSize)] = 32,
            [nameof(PruningOptions.CapacityFloor)] = 0.5,
            [nameof(PruningOptions.Finalists)] = 2,
            [nameof(PruningOptions.FinalistSteps)] = 7,
            [nameof(PruningOptions.Swarm)] = new PsoOptions { Particles = 3 },
            [nameof(PruningOptions.PaperFitnessEpochs)] = 2,
            [nameof(PruningOptions.Epochs)] = 7,
            [nameof(PruningOptions.BatchSize)] = 16,
            [nameof(PruningOptions.LearningRate)] = 0.5f,
            [nameof(PruningOptions.WeightDecay)] = 1e-3f,
            [nameof(PruningOptions.Augmentation)] = new Augmentation(2, true),
            [nameof(PruningOptions.DistillationWeight)] = 0.25f,
            [nameof(PruningOptions.DistillationTemperature)] = 2f,
            [nameof(PruningOptions.RunDirectory)] = "/tmp/acp-run",
            [nameof(PruningOptions.Resume)] = true,
        };
        var pipelineProperties = typeof(PruningOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite).ToArray();
        // A setting added to the pipeline must be added here (and to PruneChannelsOptions).
        Assert.Equal(pipelineProperties.Select(p => p.Name).Order(), values.Keys.Order());

        var options = With();
        var defaults = new PruningOptions();
        foreach (var property in pipelineProperties)
        {
            var value = values[property.Name];
            Assert.NotEqual(property.GetValue(defaults), value);
            var mirrored = typeof(PruneChannelsOptions).GetProperty(property.Name == nameof(PruningOptions.TargetMacs) ? nameof(PruneChannelsOptions.TargetFlops) : property.Name);
            Assert.True(mirrored is not null, $"PruneChannelsOptions has no {property.Name}");
            mirrored.SetValue(options, value);
        }
        var estimator = new AcpContext().Transforms.PruneChannels(options);
        foreach (var property in pipelineProperties.Where(p => p.Name != nameof(PruningOptions.Normalization)))
        {
            Assert.Equal(values[property.Name], property.GetValue(estimator.Options));
        }
        // The normalisation is resolved against the data at Fit.
        var data = new ImageDataView(new InMemoryImageDataset(new ImageShape(1, 28, 28), 10, new byte[784], [0]));
        Assert.Same(ChannelNormalization.Mnist, estimator.NormalizationFor(data));
    }

    [Theory]
    [InlineData(null, null, 0)]
    [InlineData(42, null, 42)]
    [InlineData(42, 7, 7)]
    [InlineData(null, 7, 7)]
    public void The_contexts_seed_flows_into_the_options_unless_they_set_one(int? contextSeed, int? optionsSeed, int expected)
    {
        var options = With();
        options.Seed = optionsSeed;
        Assert.Equal(expected, new AcpContext(contextSeed).Transforms.PruneChannels(options).Options.Seed);
    }

    [Theory]
    [InlineData(nameof(PruneChannelsOptions.TargetFlops), 1.5)]
    [InlineData(nameof(PruneChannelsOptions.TargetFlops), 0.0)]
    [InlineData(nameof(PruneChannelsOptions.TargetParams), -0.1)]
    [InlineData(nameof(PruneChannelsOptions.Epochs), -1)]
    [InlineData(nameof(PruneChannelsOptions.BatchSize), 0)]
    [InlineData(nameof(PruneChannelsOptions.ValidationImages), 0)]
    [InlineData(nameof(PruneChannelsOptions.DistillationWeight), 2f)]
    [InlineData(nameof(PruneChannelsOptions.Resume), true)]
    public void A_bad_setting_is_refused_by_PruneChannels_naming_it(string name, object value)
    {
        var options = With();
        var property = typeof(PruneChannelsOptions).GetProperty(name)!;
        property.SetValue(options, Convert.ChangeType(value, Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType));
        var error = Assert.Throws<ArgumentException>(() => new AcpContext().Transforms.PruneChannels(options));
        Assert.Equal(name, error.ParamName);
        Assert.Contains(name, error.Message);
    }

    [Fact]
    public void No_budget_is_refused_as_a_missing_TargetFlops()
    {
        var options = With();
        options.TargetFlops = null;
        var error = Assert.Throws<ArgumentException>(() => new AcpContext().Transforms.PruneChannels(options));
        Assert.Equal(nameof(PruneChannelsOptions.TargetFlops), error.ParamName);
        Assert.DoesNotContain("TargetMacs", error.Message);
    }

    [Fact]
    public void The_model_must_be_given_once()
    {
        var context = new AcpContext();
        var none = Assert.Throws<ArgumentException>(() => context.Transforms.PruneChannels(new PruneChannelsOptions { TargetFlops = 0.5 }));
        Assert.Equal(nameof(PruneChannelsOptions.ModelPath), none.ParamName);
        var both = With();
        both.ModelPath = "model.onnx";
        Assert.Contains("not both", Assert.Throws<ArgumentException>(() => context.Transforms.PruneChannels(both)).Message);
    }

    [Fact]
    public void A_missing_model_file_is_reported_with_its_path()
    {
        using var folder = new TempFolder();
        var path = folder.File("absent.onnx");
        var error = Assert.Throws<FileNotFoundException>(() => new AcpContext().Transforms.PruneChannels(path));
        Assert.Equal(path, error.FileName);
        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void The_simple_overload_sets_the_common_arguments_and_loads_the_file()
    {
        using var folder = new TempFolder();
        var path = Scenario.Write(SmallCnn.Create(seed: 1), folder.Path);
        var estimator = new AcpContext(seed: 5).Transforms.PruneChannels(path, targetFlops: 0.4, strategy: PruningStrategy.L1, epochs: 2);
        Assert.Equal(new PruningOptions { TargetMacs = 0.4, Strategy = PruningStrategy.L1, Epochs = 2, Seed = 5 }, estimator.Options);
        Assert.Equal(new ImageShape(1, 28, 28), estimator.ImageShape);
        Assert.Equal(10, estimator.ClassCount);
        Assert.Throws<ArgumentException>(() => new AcpContext().Transforms.PruneChannels(path, targetFlops: 2));
    }

    [Fact]
    public void A_normalisation_with_the_wrong_channel_count_is_refused()
    {
        var options = With();
        options.Normalization = ChannelNormalization.Cifar10;
        var error = Assert.Throws<ArgumentException>(() => new AcpContext().Transforms.PruneChannels(options));
        Assert.Equal(nameof(PruneChannelsOptions.Normalization), error.ParamName);
        Assert.Contains("1×28×28", error.Message);
    }

    [Fact]
    public void The_normalisation_comes_from_the_options_then_the_data_then_the_model_metadata()
    {
        var model = SmallCnn.Create(seed: 1);
        model.Metadata.Add(KeyValuePair.Create("acp.mean", "[0.5]"));
        model.Metadata.Add(KeyValuePair.Create("acp.std", "0.25"));
        var plain = new ImageDataView(new InMemoryImageDataset(new ImageShape(1, 28, 28), 10, new byte[784], [0]));
        var context = new AcpContext();

        var fromMetadata = context.Transforms.PruneChannels(With(model)).NormalizationFor(plain)!;
        Assert.Equal([0.5f], fromMetadata.Mean);
        Assert.Equal([0.25f], fromMetadata.Std);
        Assert.Same(ChannelNormalization.Mnist, context.Transforms.PruneChannels(With(model)).NormalizationFor(plain.WithNormalization(ChannelNormalization.Mnist)));
        var explicitOptions = With(model);
        explicitOptions.Normalization = ChannelNormalization.FashionMnist;
        Assert.Same(ChannelNormalization.FashionMnist, context.Transforms.PruneChannels(explicitOptions).NormalizationFor(plain));
        var conflict = Assert.Throws<ArgumentException>(() => context.Transforms.PruneChannels(explicitOptions).NormalizationFor(plain.WithNormalization(ChannelNormalization.Mnist)));
        Assert.Equal("data", conflict.ParamName);
        Assert.Null(context.Transforms.PruneChannels(With()).NormalizationFor(plain));
    }

    [Theory]
    [InlineData("0.5", null)]
    [InlineData("zero", "0.25")]
    [InlineData("0.5", "0")]
    public void Malformed_normalisation_metadata_is_refused_naming_the_keys(string mean, string? std)
    {
        var model = SmallCnn.Create(seed: 1);
        model.Metadata.Add(KeyValuePair.Create("acp.mean", mean));
        if (std is not null) model.Metadata.Add(KeyValuePair.Create("acp.std", std));
        var error = Assert.Throws<OnnxModelException>(() => new AcpContext().Transforms.PruneChannels(With(model)));
        Assert.Contains("acp.", error.Message);
    }

    [Fact]
    public void A_model_with_nothing_prunable_is_refused_before_any_data_is_read()
    {
        // Conv → GlobalAveragePool → Flatten: the conv's channels are the model's outputs, so none can go.
        var graph = new Graph { Name = "fenced" };
        graph.Inputs.Add(new ValueInfo("input", ElementType.Float, [Dimension.Symbolic("batch"), Dimension.Fixed(1), Dimension.Fixed(8), Dimension.Fixed(8)]));
        graph.Outputs.Add(new ValueInfo("logits", ElementType.Float, [Dimension.Symbolic("batch"), Dimension.Fixed(4)]));
        graph.Initializers.Add(OnnxTensor.FromFloats("w", [4, 1, 3, 3], new float[36]));
        graph.Nodes.Add(new Node("conv", "Conv", ["input", "w"], ["c"], [NodeAttribute.FromInts("kernel_shape", [3, 3])]));
        graph.Nodes.Add(new Node("gap", "GlobalAveragePool", ["c"], ["g"]));
        graph.Nodes.Add(new Node("flatten", "Flatten", ["g"], ["logits"]));
        var model = new OnnxModel(graph);
        model.OpsetImports.Add(new OpsetImport("", 13));
        var error = Assert.Throws<ArgumentException>(() => new AcpContext().Transforms.PruneChannels(With(model)));
        Assert.Contains("no channel that can be removed", error.Message);
    }

    [Fact]
    public void A_model_that_is_not_an_image_classifier_is_refused()
    {
        var graph = new Graph { Name = "vector" };
        graph.Inputs.Add(new ValueInfo("x", ElementType.Float, [Dimension.Symbolic("batch"), Dimension.Fixed(4)]));
        graph.Outputs.Add(new ValueInfo("y", ElementType.Float, [Dimension.Symbolic("batch"), Dimension.Fixed(4)]));
        graph.Nodes.Add(new Node("relu", "Relu", ["x"], ["y"]));
        var model = new OnnxModel(graph);
        model.OpsetImports.Add(new OpsetImport("", 13));
        var error = Assert.Throws<ArgumentException>(() => new AcpContext().Transforms.PruneChannels(With(model)));
        Assert.Equal(nameof(PruneChannelsOptions.Model), error.ParamName);
        Assert.Contains("[N, C, H, W]", error.Message);
    }

    [Fact]
    public void Data_that_do_not_fit_the_model_are_refused_by_Fit_before_any_work()
    {
        var estimator = new AcpContext().Transforms.PruneChannels(With());
        var colour = new ImageDataView(new InMemoryImageDataset(new ImageShape(3, 28, 28), 10, new byte[3 * 784], [0]));
        var error = Assert.Throws<ArgumentException>(() => estimator.Fit(colour));
        Assert.Equal("input", error.ParamName);
        Assert.Contains("3×28×28", error.Message);
        var manyClasses = new ImageDataView(new InMemoryImageDataset(new ImageShape(1, 28, 28), 12, new byte[784], [11]));
        Assert.Contains("12 classes", Assert.Throws<ArgumentException>(() => estimator.Fit(manyClasses)).Message);
    }
}
