using System.Numerics.Tensors;
using Acp.Engine.Execution;
using Acp.Engine.Kernels;
using Acp.Engine.Tests.Networks;
using Acp.Engine.Training;
using Acp.Onnx.Ir;
using Acp.Onnx.Tests.Support;

namespace Acp.TorchSharp.Tests;

/// <summary>A training step against torch.optim.SGD (the engine fixtures) and against the engine's own step with distillation.</summary>
public sealed class TrainerTests
{
    private const string Name = "resnet20_tiny";

    private static float[] Oracle(string file) => Fixtures.ReadFloatsAt(Fixtures.EnginePathOf(file));

    private static int[] Labels()
    {
        var bytes = File.ReadAllBytes(Fixtures.EnginePathOf($"{Name}.grad.labels.i64"));
        return Enumerable.Range(0, bytes.Length / 8).Select(i => (int)BitConverter.ToInt64(bytes, i * 8)).ToArray();
    }

    [Fact]
    public void One_step_matches_torch_optim_sgd()
    {
        var model = OnnxModel.Load(Fixtures.EnginePathOf($"{Name}.onnx"));
        var labels = Labels();
        using var module = OnnxModule.Import(model);
        using var trainer = new TorchTrainer(module, new TorchTrainingOptions { Momentum = 0.9f, WeightDecay = 5e-4f });

        var result = trainer.Step(Oracle($"{Name}.grad.input.f32"), [labels.Length, 1, 28, 28], labels, 0.1f);

        Assert.Equal(Oracle($"{Name}.grad.loss.f32")[0], result.Loss, 1e-4);
        var after = model.Clone();
        module.WriteWeightsTo(after);
        foreach (var watched in new[] { "conv1.weight", "layer2.0.bn1.weight", "fc.weight" })
        {
            Numerics.AssertClose(Oracle($"{Name}.sgd1.{watched}.f32"), after.Graph.Initializers[watched].Floats, 1e-5, $"{watched} after one step");
        }
    }

    [Fact]
    public void A_distilled_label_smoothed_step_matches_the_engines()
    {
        var model = OnnxModel.Load(Fixtures.EnginePathOf($"{Name}.onnx"));
        var labels = Labels();
        var input = Oracle($"{Name}.grad.input.f32");
        int[] shape = [labels.Length, 1, 28, 28];
        var teacher = ForwardTests.RandomInput([labels.Length, 10], 11).Select(v => v * 3).ToArray();
        const float smoothing = 0.1f, temperature = 4f, weight = 0.7f, rate = 0.05f;

        // The engine's Trainer.Step, spelled out with its public parts.
        var network = Network.Build(model);
        network.Training = true;
        var logits = network.Forward(shape, input);
        var gradient = new float[logits.Length];
        var distill = new float[logits.Length];
        var loss = Losses.SoftmaxCrossEntropy(labels.Length, 10, logits.Data, labels, smoothing, gradient);
        var kl = Losses.Distillation(labels.Length, 10, logits.Data, teacher, temperature, distill);
        var expectedLoss = (1 - weight) * loss + weight * kl;
        TensorPrimitives.Multiply(gradient, 1 - weight, gradient);
        TensorPrimitives.MultiplyAdd(distill, weight, gradient, gradient);
        network.Backward(gradient);
        new SgdOptimizer(network.Parameters, new SgdOptions { Momentum = 0.9f, WeightDecay = 5e-4f }).Step(rate);
        var expected = model.Clone();
        network.WriteWeightsTo(expected);

        using var module = OnnxModule.Import(model);
        using var trainer = new TorchTrainer(module, new TorchTrainingOptions { LabelSmoothing = smoothing, Temperature = temperature, DistillationWeight = weight });
        var result = trainer.Step(input, shape.Select(d => (long)d).ToArray(), labels, rate, teacher);
        var actual = model.Clone();
        module.WriteWeightsTo(actual);

        Assert.Equal(expectedLoss, result.Loss, 1e-4);
        foreach (var name in module.ParameterNames.Concat(module.RunningStatistics.Keys))
        {
            Numerics.AssertClose(expected.Graph.Initializers[name].Floats, actual.Graph.Initializers[name].Floats, 1e-5, name);
        }
        Assert.Throws<ArgumentException>(() => trainer.Step(input, shape.Select(d => (long)d).ToArray(), labels, rate, teacher.AsSpan(1)));
    }
}
