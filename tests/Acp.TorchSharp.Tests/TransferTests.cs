using System.Runtime.InteropServices;
using Acp.Data;
using Acp.Engine.Backends;
using Acp.Engine.Training;
using Acp.Onnx.Ir;
using Acp.Pruning.Tests.Pipeline;
using Xunit.Abstractions;

namespace Acp.TorchSharp.Tests;

/// <summary>
/// The aip strategy's losses on TorchSharp (attention transfer, the adversarial term and its discriminator) against the
/// engine's <see cref="TransferTrainer"/> and <see cref="Discriminator"/>, the reference whose gradients are checked by
/// finite differences (tests/Acp.Engine.Tests/Training/TransferLossTests.cs), all through the backend seam.
/// </summary>
public sealed class TransferTests(ITestOutputHelper log)
{
    /// <summary>Stage outputs of the small CNN, as <c>AipPruning.StageOutputs</c> picks them.</summary>
    private static readonly string[] Stages = ["r1", "r2", "p2"];

    private const int Hidden = 16;
    private const float Rate = 0.05f;

    public static TheoryData<bool, bool> Terms => new() { { true, false }, { false, true }, { true, true } };

    [Theory]
    [MemberData(nameof(Terms))]
    public void Two_transfer_steps_give_the_engines_losses_weights_and_discriminator(bool attention, bool adversarial)
    {
        var batches = Batches(2);
        var engine = Run(EngineBackend.Instance, attention, adversarial, batches);
        var torch = Run(new TorchSharpBackend(), attention, adversarial, batches);
        // The same steps with distillation only: the terms under test must move the weights by far more than the tolerance.
        var plain = Run(EngineBackend.Instance, false, false, batches);

        for (var s = 0; s < batches.Count; s++)
        {
            log.WriteLine($"step {s}: engine loss {engine.Losses[s]:R}, torchsharp {torch.Losses[s]:R}, distillation only {plain.Losses[s]:R}");
            Assert.True(Math.Abs(torch.Losses[s] - engine.Losses[s]) <= 1e-4 * Math.Abs(engine.Losses[s]), $"step {s}: loss {torch.Losses[s]}, engine {engine.Losses[s]}");
        }
        foreach (var (name, expected) in engine.Deltas)
        {
            var error = RelativeError(expected, torch.Deltas[name]);
            var effect = RelativeError(expected, plain.Deltas[name]);
            log.WriteLine($"{name}: update differs from the engine's by {error:g3} of its largest element; the terms change it by {effect:g3}");
            Assert.True(error <= 1e-4, $"{name}: the update differs from the engine's by {error:g3} of its largest element");
            if (name is "conv1.weight" or "conv2.weight" or "fc.weight") Assert.True(effect > 100 * 1e-4, $"{name}: the terms change the update by only {effect:g3}");
        }
        var (engineOptimizer, engineDiscriminator) = DecodeTransferState(engine.State);
        var (torchOptimizer, torchDiscriminator) = DecodeTransferState(torch.State);
        Assert.Equal(engineOptimizer.Length, torchOptimizer.Length);
        Assert.Equal(engineDiscriminator.Length, torchDiscriminator.Length);
        Assert.Equal(adversarial, torchDiscriminator.Length > 0);
        if (adversarial)
        {
            AssertDiscriminatorsClose(engineDiscriminator, torchDiscriminator, 1e-4);
        }
    }

    [Fact]
    public void The_attention_term_is_pytorchs_attention_transfer_of_the_same_maps()
    {
        var batch = Batches(1)[0];
        var backend = new TorchSharpBackend();
        using var teacher = backend.Build(TrainedSmallCnn.Model(), 0);
        // The step's loss is taken before its update: with and without the term, on fresh students, it differs by the term.
        double LossOfFirstStep(bool attention)
        {
            using var student = backend.Build(StudentModel(), 0);
            using var trainer = student.CreateTrainer(Options(teacher, attention, adversarial: false));
            return trainer.Step(batch, Rate).Loss;
        }
        var term = LossOfFirstStep(attention: true) - LossOfFirstStep(attention: false);

        // The maps the step saw: the teacher's in inference mode, the student's in training mode.
        var folder = Directory.CreateTempSubdirectory("acp-torch-at-").FullName;
        try
        {
            using var probe = backend.Build(StudentModel(), 0);
            WriteMaps(teacher, batch, training: false, Path.Combine(folder, "teacher"));
            WriteMaps(probe, batch, training: true, Path.Combine(folder, "student"));
            var reference = PyTorchAttentionTransfer(folder) * 2f;
            log.WriteLine($"attention term: TorchSharp {term:R}, PyTorch 1.13 {reference:R}");
            Assert.True(term > 0.5, $"the term is only {term}");
            Assert.True(Math.Abs(term - reference) <= 1e-4 * reference, $"TorchSharp's term {term}, PyTorch's {reference}");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static void WriteMaps(ITrainableNetwork network, Batch batch, bool training, string prefix)
    {
        var maps = new Dictionary<string, Acp.Engine.Tensors.Tensor>();
        var hooks = Stages.Select(v => network.Capture(v, t => maps[v] = new Acp.Engine.Tensors.Tensor(t.Shape.ToArray(), t.Data.ToArray()))).ToList();
        network.Forward(batch.Shape, batch.ImageSpan, training);
        foreach (var hook in hooks) hook.Dispose();
        foreach (var (name, map) in maps)
        {
            File.WriteAllBytes($"{prefix}.{name}.f32", MemoryMarshal.AsBytes(map.Data).ToArray());
            File.WriteAllText($"{prefix}.{name}.shape", string.Join(" ", map.Shape.ToArray()));
        }
    }

    /// <summary>
    /// Σ over the stages of the authors' attention transfer (Zagoruyko &amp; Komodakis's <c>at</c>: normalised channel
    /// mean of squares, squared differences averaged over batch and positions) times the positions, which is the
    /// engine's definition, computed by Debian's PyTorch 1.13 in double.
    /// </summary>
    private static double PyTorchAttentionTransfer(string folder)
    {
        var script = string.Join("\n",
            "import sys, numpy as np, torch, torch.nn.functional as F",
            "d = sys.argv[1]",
            "def load(p):",
            "    shape = [int(v) for v in open(p + '.shape').read().split()]",
            "    return torch.from_numpy(np.fromfile(p + '.f32', dtype=np.float32).reshape(shape)).double()",
            "def at(x):",
            "    return F.normalize(x.pow(2).mean(1).view(x.size(0), -1))",
            "total = 0.0",
            $"for v in {string.Concat("[", string.Join(", ", Stages.Select(v => $"'{v}'")), "]")}:",
            "    s, t = load(d + '/student.' + v), load(d + '/teacher.' + v)",
            "    total += (at(s) - at(t)).pow(2).mean().item() * s.size(2) * s.size(3)",
            "print(repr(total))");
        var start = new System.Diagnostics.ProcessStartInfo("/usr/bin/python3", ["-c", script, folder])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = System.Diagnostics.Process.Start(start) ?? throw new InvalidOperationException("Could not start /usr/bin/python3.");
        var errors = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"PyTorch failed (exit {process.ExitCode}): {errors.Result}");
        return double.Parse(output.Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public void The_discriminator_step_is_the_engines_on_the_same_logits()
    {
        var batch = Batches(1)[0];
        var (teacherModel, studentModel) = (TrainedSmallCnn.Model(), StudentModel());
        var backend = new TorchSharpBackend();
        using var teacher = backend.Build(teacherModel, 0);
        using var student = backend.Build(studentModel, 0);
        // The logits the step sees: the teacher's in inference mode, the student's in training mode before its update.
        var teacherLogits = teacher.Forward(batch.Shape, batch.ImageSpan).Data.ToArray();
        using (var probe = backend.Build(studentModel, 0))
        {
            var studentLogits = probe.Forward(batch.Shape, batch.ImageSpan, training: true).Data.ToArray();
            var reference = new Discriminator(10, Hidden, seed: 9);
            var fresh = DiscriminatorFloats(reference.ExportState());
            reference.TrainStep(batch.Count, teacherLogits, studentLogits, 0.05f);

            using var trainer = student.CreateTrainer(Options(teacher, attention: false, adversarial: true));
            trainer.Step(batch, Rate);
            var (_, discriminator) = DecodeTransferState(trainer.ExportState());
            AssertDiscriminatorsClose(reference.ExportState(), discriminator, 1e-5);
            // The step moved it (from the engine's seeded initial weights): the comparison could fail.
            Assert.True(RelativeError(DiscriminatorFloats(reference.ExportState()), fresh) > 1e-3);
        }
    }

    [Fact]
    public void Training_resumed_from_exported_weights_and_state_equals_uninterrupted_training()
    {
        var batches = Batches(4);
        var backend = new TorchSharpBackend();
        var teacherModel = TrainedSmallCnn.Model();

        var (uninterrupted, uninterruptedState) = Train(StudentModel(), null, batches);
        var (halfway, state) = Train(StudentModel(), null, batches[..2]);
        var (resumed, resumedState) = Train(halfway, state, batches[2..]);
        var (restarted, _) = Train(halfway, null, batches[2..]);

        foreach (var initializer in uninterrupted.Graph.Initializers)
        {
            Assert.Equal(initializer.Floats, resumed.Graph.Initializers[initializer.Name].Floats);
        }
        Assert.Equal(uninterruptedState, resumedState);
        // Without the state (momentum, discriminator) the run goes elsewhere: the comparison above can fail.
        Assert.NotEqual(uninterrupted.Graph.Initializers["conv1.weight"].Floats, restarted.Graph.Initializers["conv1.weight"].Floats);
        // The layout is the engine's: its transfer trainer takes the state.
        using var engineTeacher = EngineBackend.Instance.Build(teacherModel, 0);
        using var engineStudent = EngineBackend.Instance.Build(halfway, 0);
        using var engineTrainer = engineStudent.CreateTrainer(Options(engineTeacher, attention: true, adversarial: true));
        engineTrainer.ImportState(state);

        (OnnxModel Model, byte[] State) Train(OnnxModel model, byte[]? from, IReadOnlyList<Batch> steps)
        {
            using var teacher = backend.Build(teacherModel, 0);
            using var student = backend.Build(model, 0);
            using var trainer = student.CreateTrainer(Options(teacher, attention: true, adversarial: true));
            if (from is not null) trainer.ImportState(from);
            foreach (var batch in steps) trainer.Step(batch, Rate);
            var trained = model.Clone();
            student.WriteWeightsTo(trained);
            return (OnnxModel.FromBytes(trained.ToBytes()), trainer.ExportState());
        }
    }

    [Fact]
    public void A_teacher_of_the_engine_backend_gives_the_steps_of_a_torchsharp_teacher()
    {
        var batches = Batches(2);
        var (teacherModel, backend) = (TrainedSmallCnn.Model(), new TorchSharpBackend());
        using var torchTeacher = backend.Build(teacherModel, 0);
        using var engineTeacher = EngineBackend.Instance.Build(teacherModel, 0);
        (double[] Losses, float[] Weights) Train(ITrainableNetwork teacher)
        {
            using var student = backend.Build(StudentModel(), 0);
            using var trainer = student.CreateTrainer(Options(teacher, attention: true, adversarial: true));
            var losses = batches.Select(b => trainer.Step(b, Rate).Loss).ToArray();
            return (losses, student.ReadParameter("conv1.weight").Data);
        }

        var (torchLosses, torchWeights) = Train(torchTeacher);
        var (engineLosses, engineWeights) = Train(engineTeacher);

        for (var s = 0; s < batches.Count; s++) Assert.True(Math.Abs(engineLosses[s] - torchLosses[s]) <= 1e-5 * torchLosses[s], $"step {s}: {engineLosses[s]} against {torchLosses[s]}");
        Assert.True(RelativeError(torchWeights, engineWeights) <= 1e-5, $"conv1.weight differs by {RelativeError(torchWeights, engineWeights):g3}");
    }

    [Fact]
    public void A_malformed_state_or_one_without_an_adversarial_term_is_refused()
    {
        var backend = new TorchSharpBackend();
        using var teacher = backend.Build(TrainedSmallCnn.Model(), 0);
        using var student = backend.Build(StudentModel(), 0);
        using var trainer = student.CreateTrainer(Options(teacher, attention: true, adversarial: true));
        trainer.Step(Batches(1)[0], Rate);
        var state = trainer.ExportState();
        Assert.Contains("truncated", Assert.Throws<ArgumentException>(() => trainer.ImportState(state[..^3])).Message);
        Assert.Contains("trailing", Assert.Throws<ArgumentException>(() => trainer.ImportState([.. state, 0])).Message);
        using var attentionOnly = student.CreateTrainer(Options(teacher, attention: true, adversarial: false));
        Assert.Contains("no adversarial term", Assert.Throws<ArgumentException>(() => attentionOnly.ImportState(state)).Message);
        Assert.Contains("'nope'", Assert.Throws<ArgumentException>(() => student.CreateTrainer(Options(teacher, true, false) with
        {
            AttentionTransfer = new AttentionTransferOptions(["nope"]),
        })).Message);
    }

    /// <summary>The seam's options of an aip recovery: Nesterov SGD with weight decay, distillation from the teacher, the terms asked for.</summary>
    private static NetworkTrainingOptions Options(ITrainableNetwork teacher, bool attention, bool adversarial) => new()
    {
        Sgd = new SgdOptions { Momentum = 0.9f, Nesterov = true, WeightDecay = 5e-4f },
        Distillation = new NetworkDistillation(teacher, 4f, 0.7f),
        AttentionTransfer = attention ? new AttentionTransferOptions(Stages, 2f) : null,
        Adversarial = adversarial ? new AdversarialOptions(Weight: 1f, HiddenWidth: Hidden, LearningRate: 0.05f, Seed: 9) : null,
    };

    /// <summary>
    /// Trains a fresh student (the small CNN's architecture, other weights) from the trained one on each batch in
    /// turn; returns the losses, each parameter's total update and the trainer's state.
    /// </summary>
    private static (List<double> Losses, Dictionary<string, float[]> Deltas, byte[] State) Run(IComputeBackend backend, bool attention, bool adversarial, IReadOnlyList<Batch> batches)
    {
        using var teacher = backend.Build(TrainedSmallCnn.Model(), 0);
        using var student = backend.Build(StudentModel(), 0);
        var before = student.ParameterNames.ToDictionary(n => n, n => student.ReadParameter(n).Data);
        var options = Options(teacher, attention, adversarial);
        using var trainer = student.CreateTrainer(options);
        var losses = batches.Select(b => trainer.Step(b, Rate).Loss).ToList();
        var deltas = before.ToDictionary(p => p.Key, p => student.ReadParameter(p.Key).Data.Select((v, i) => v - p.Value[i]).ToArray());
        return (losses, deltas, options.TransfersKnowledge ? trainer.ExportState() : []);
    }

    /// <summary>The small CNN's architecture with other, untrained weights: a student far from the teacher.</summary>
    private static OnnxModel StudentModel() => Acp.Engine.Tests.Training.SmallCnn.Create(seed: 5);

    private static List<Batch> Batches(int count)
    {
        var loader = new BatchLoader(TrainedSmallCnn.Data(), new BatchLoaderOptions { BatchSize = 16, Normalization = ChannelNormalization.FashionMnist });
        // Each batch its own buffer: an enumeration overwrites one.
        return Enumerable.Range(0, count).Select(i => loader.GetBatches(0, loader.CreateBatch()).Skip(i).First()).ToList();
    }

    /// <summary>Largest element difference over the largest element of <paramref name="expected"/>.</summary>
    private static double RelativeError(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        double worst = 0, scale = 0;
        for (var i = 0; i < expected.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs((double)actual[i] - expected[i]));
            scale = Math.Max(scale, Math.Abs((double)expected[i]));
        }
        return worst / Math.Max(scale, 1e-30);
    }

    /// <summary><see cref="TransferTrainer.ExportState"/>'s layout: the optimizer's block, then the discriminator's.</summary>
    private static (byte[] Optimizer, byte[] Discriminator) DecodeTransferState(byte[] state)
    {
        using var reader = new BinaryReader(new MemoryStream(state));
        var optimizer = reader.ReadBytes(reader.ReadInt32());
        var discriminator = reader.ReadBytes(reader.ReadInt32());
        Assert.Equal(state.Length, reader.BaseStream.Position);
        return (optimizer, discriminator);
    }

    /// <summary>Weights and momentum buffers each within <paramref name="tolerance"/> of their largest element.</summary>
    private static void AssertDiscriminatorsClose(byte[] expectedState, byte[] actualState, double tolerance)
    {
        var (expected, actual) = (DiscriminatorFloats(expectedState), DiscriminatorFloats(actualState));
        Assert.Equal(expected.Length, actual.Length);
        var half = expected.Length / 2;
        var weights = RelativeError(expected[..half], actual[..half]);
        var momentum = RelativeError(expected[half..], actual[half..]);
        Assert.True(weights <= tolerance && momentum <= tolerance, $"the discriminator's weights differ by {weights:g3}, its momentum by {momentum:g3}");
    }

    /// <summary>The weights and momentum buffers of <see cref="Discriminator.ExportState"/> (after its two sizes).</summary>
    private static float[] DiscriminatorFloats(byte[] state) => MemoryMarshal.Cast<byte, float>(state.AsSpan(2 * sizeof(int))).ToArray();
}
