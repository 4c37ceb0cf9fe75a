using System.Runtime.InteropServices;
using Acp.Data;
using Acp.Engine.Execution;
using Acp.Engine.Kernels;
using Acp.Engine.Tests.Networks;
using Acp.Engine.Training;
using Acp.Onnx.Ir;
using Acp.Onnx.Tests.Support;
using Acp.Pruning.Pipeline;
using Acp.Pruning.Tests.Pipeline;

namespace Acp.TorchSharp.Tests;

/// <summary>
/// The SGD momentum buffers survive a checkpoint: a fine-tune on TorchSharp that is stopped and resumed ends where an
/// uninterrupted one does, as on the engine (tests/Acp.Pruning.Tests/Pipeline/ResumeTests.cs).
/// </summary>
public sealed class ResumeTests : IDisposable
{
    private const string Name = "resnet20_tiny";
    private readonly string _dir = Directory.CreateTempSubdirectory("acp-torch-resume-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Training_continued_from_exported_weights_and_state_equals_uninterrupted_training()
    {
        var model = OnnxModel.Load(Fixtures.EnginePathOf($"{Name}.onnx"));
        var (input, shape, labels) = Batch();
        var options = new TorchTrainingOptions { Momentum = 0.9f, Nesterov = true, WeightDecay = 5e-4f };
        float[] rates = [0.05f, 0.04f, 0.03f];

        var uninterrupted = Train(model, options, rates, input, shape, labels, state: null, out _);
        Train(model, options, rates[..1], input, shape, labels, state: null, out var checkpoint);
        var resumed = Train(checkpoint.Model, options, rates[1..], input, shape, labels, checkpoint.State, out _);
        var restarted = Train(checkpoint.Model, options, rates[1..], input, shape, labels, state: null, out _);

        foreach (var name in uninterrupted.Graph.Initializers.Select(i => i.Name))
        {
            Assert.Equal(uninterrupted.Graph.Initializers[name].Floats, resumed.Graph.Initializers[name].Floats);
        }
        // Without the state the momentum restarts and the weights go elsewhere: the comparison above can fail.
        Assert.NotEqual(uninterrupted.Graph.Initializers["conv1.weight"].Floats, restarted.Graph.Initializers["conv1.weight"].Floats);
    }

    [Fact]
    public void The_exported_state_holds_the_engines_momentum_buffers_in_the_engines_layout()
    {
        var model = OnnxModel.Load(Fixtures.EnginePathOf($"{Name}.onnx"));
        var (input, shape, labels) = Batch();
        var network = Network.Build(model);
        var engine = new SgdOptimizer(network.Parameters, new SgdOptions { Momentum = 0.9f, Nesterov = true });
        using var module = OnnxModule.Import(model);
        using var torch = new TorchTrainer(module, new TorchTrainingOptions { Momentum = 0.9f, Nesterov = true });
        var fresh = torch.ExportState();

        for (var step = 0; step < 2; step++)
        {
            // The engine's Trainer.Step without distillation, spelled out with its public parts.
            network.Training = true;
            var logits = network.Forward(shape.Select(d => (int)d).ToArray(), input);
            var gradient = new float[logits.Length];
            Losses.SoftmaxCrossEntropy(labels.Length, 10, logits.Data, labels, 0f, gradient);
            network.Backward(gradient);
            engine.Step(0.05f);
            torch.Step(input, shape, labels, 0.05f);
        }

        var expected = Decode(engine.ExportState());
        var actual = Decode(torch.ExportState());
        Assert.True(expected.Started);
        Assert.True(actual.Started);
        Assert.False(Decode(fresh).Started);
        Assert.Equal(expected.Buffers.Length, actual.Buffers.Length);
        for (var i = 0; i < expected.Buffers.Length; i++) Numerics.AssertClose(expected.Buffers[i], actual.Buffers[i], 1e-4, module.ParameterNames[i]);
        // And the engine reads it back: the layouts are one.
        engine.ImportState(torch.ExportState());
    }

    [Fact]
    public void A_malformed_state_is_refused_in_one_line()
    {
        var model = OnnxModel.Load(Fixtures.EnginePathOf($"{Name}.onnx"));
        using var module = OnnxModule.Import(model);
        using var trainer = new TorchTrainer(module);
        var state = trainer.ExportState();
        Assert.Contains("truncated", Assert.Throws<ArgumentException>(() => trainer.ImportState(state[..^3])).Message);
        Assert.Contains("trailing", Assert.Throws<ArgumentException>(() => trainer.ImportState([.. state, 0])).Message);
        using var other = OnnxModule.Import(SmallCnnModel());
        using var otherTrainer = new TorchTrainer(other);
        Assert.Contains("different number of parameters", Assert.Throws<ArgumentException>(() => otherTrainer.ImportState(state)).Message);
    }

    [Fact]
    public void A_fine_tune_stopped_in_its_second_epoch_resumes_to_the_uninterrupted_model()
    {
        // L1 has no search, so the run is the fine-tune this test is about (the engine's test covers every stage), on
        // 960 of the small CNN's training images (320 held out): 10 steps per epoch.
        var options = BackendSeamTests.Small(new TorchSharpBackend()) with { Strategy = PruningStrategy.L1, Epochs = 2, ValidationImages = 320 };
        var data = () => DatasetFolder.Open(TrainedSmallCnn.FashionMnist, DatasetSplit.Train, 960);
        var uninterrupted = PruningPipeline.Run(TrainedSmallCnn.Model(), data(), options).Model.ToBytes();
        var run = Path.Combine(_dir, "run");
        using var stop = new CancellationTokenSource();
        // Past the first epoch's checkpoint (weights and momentum), a few batches into the second.
        var progress = new Callback(p => { if (p.Stage == PruningStage.FineTuning && p.Epoch == 1 && p.Completed >= p.Total / 2 + 5) stop.Cancel(); });
        Assert.ThrowsAny<OperationCanceledException>(() =>
            PruningPipeline.Run(TrainedSmallCnn.Model(), data(), options with { RunDirectory = run }, progress, stop.Token));
        Assert.True(File.Exists(Path.Combine(run, "finetune.onnx")), "the first epoch's checkpoint was not written");

        var resumed = PruningPipeline.Run(TrainedSmallCnn.Model(), data(), options with { RunDirectory = run, Resume = true });
        Assert.Equal(uninterrupted, resumed.Model.ToBytes());
    }

    private static OnnxModel Train(OnnxModel model, TorchTrainingOptions options, float[] rates, float[] input, long[] shape, int[] labels,
        byte[]? state, out (OnnxModel Model, byte[] State) checkpoint)
    {
        using var module = OnnxModule.Import(model);
        using var trainer = new TorchTrainer(module, options);
        if (state is not null) trainer.ImportState(state);
        foreach (var rate in rates) trainer.Step(input, shape, labels, rate);
        var trained = model.Clone();
        module.WriteWeightsTo(trained);
        checkpoint = (OnnxModel.FromBytes(trained.ToBytes()), trainer.ExportState());
        return trained;
    }

    private static (float[] Input, long[] Shape, int[] Labels) Batch()
    {
        var bytes = File.ReadAllBytes(Fixtures.EnginePathOf($"{Name}.grad.labels.i64"));
        var labels = Enumerable.Range(0, bytes.Length / 8).Select(i => (int)BitConverter.ToInt64(bytes, i * 8)).ToArray();
        return (Fixtures.ReadFloatsAt(Fixtures.EnginePathOf($"{Name}.grad.input.f32")), [labels.Length, 1, 28, 28], labels);
    }

    private static OnnxModel SmallCnnModel() => Acp.Engine.Tests.Training.SmallCnn.Create(seed: 1);

    /// <summary>The engine's layout: started flag, buffer count, then each buffer's length and floats.</summary>
    private static (bool Started, float[][] Buffers) Decode(byte[] state)
    {
        using var reader = new BinaryReader(new MemoryStream(state));
        var started = reader.ReadBoolean();
        var buffers = new float[reader.ReadInt32()][];
        for (var i = 0; i < buffers.Length; i++)
        {
            buffers[i] = new float[reader.ReadInt32()];
            reader.Read(MemoryMarshal.AsBytes(buffers[i].AsSpan()));
        }
        Assert.Equal(state.Length, reader.BaseStream.Position);
        return (started, buffers);
    }

    private sealed class Callback(Action<PruningProgress> report) : IProgress<PruningProgress>
    {
        public void Report(PruningProgress value) => report(value);
    }
}
