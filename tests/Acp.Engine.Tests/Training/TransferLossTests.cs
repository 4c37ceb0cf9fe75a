using Acp.Data;
using Acp.Engine.Execution;
using Acp.Engine.Kernels;
using Acp.Engine.Training;

namespace Acp.Engine.Tests.Training;

/// <summary>
/// AIP's knowledge-transfer losses against central finite differences: attention transfer backpropagated through a
/// network from gradients injected on intermediate values (<see cref="Network.Backward(ReadOnlySpan{float}, IReadOnlyList{ValueTuple{string, float[]}})"/>),
/// and the discriminator's two losses (the student's adversarial term with respect to its outputs, the discriminator's
/// own with respect to its weights).
/// </summary>
public sealed class TransferLossTests
{
    private static float[] RandomValues(int count, int seed, float scale = 1f)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1) * scale).ToArray();
    }

    [Fact]
    public void Attention_transfer_on_two_stages_backpropagates_to_the_weights_as_finite_differences_say()
    {
        // r1 gets a gradient of its own and one through r2: the injected gradient must add to what flows back.
        string[] values = ["r1", "r2"];
        var student = Network.Build(SmallCnn.Create(5), 5);
        var teacher = Network.Build(SmallCnn.Create(11), 11);
        int[] shape = [3, 1, 28, 28];
        var images = RandomValues(3 * 28 * 28, 1);
        var maps = new Dictionary<string, (float[] Data, int[] Shape)>();
        var teacherMaps = new Dictionary<string, float[]>();
        foreach (var v in values)
        {
            student.Capture(v, t => maps[v] = (t.Data.ToArray(), t.Shape.ToArray()));
            teacher.Capture(v, t => teacherMaps[v] = t.Data.ToArray());
        }
        teacher.Forward(shape, images);
        student.Training = true;

        double Loss(List<(string, float[])>? gradients)
        {
            var output = student.Forward(shape, images);
            var loss = 0.0;
            foreach (var v in values)
            {
                var (data, s) = maps[v];
                var gradient = gradients is null ? null : new float[data.Length];
                loss += Losses.AttentionTransfer(s[0], s[1], s[1], s[2] * s[3], data, teacherMaps[v], gradient);
                gradients?.Add((v, gradient!));
            }
            return loss;
        }

        var injected = new List<(string, float[])>();
        Loss(injected);
        student.Backward(new float[3 * 10], injected);
        var checkedCount = 0;
        foreach (var parameter in student.Parameters.Where(p => p.Name is "conv1.weight" or "conv2.weight" or "bn1.weight" or "bn2.bias"))
        {
            var analytic = parameter.Gradient.Data.ToArray();
            // The five largest gradients of each parameter: well above the float32 noise of the differences.
            foreach (var index in Enumerable.Range(0, analytic.Length).OrderByDescending(i => Math.Abs(analytic[i])).Take(5))
            {
                var data = parameter.Value.Data;
                var kept = data[index];
                const float h = 1e-2f;
                data[index] = kept + h;
                var plus = Loss(null);
                data[index] = kept - h;
                var minus = Loss(null);
                data[index] = kept;
                var numeric = (plus - minus) / ((double)(kept + h) - (kept - h));
                Assert.True(Math.Abs(numeric - analytic[index]) <= 2e-3 + 0.03 * Math.Abs(numeric),
                    $"{parameter.Name}[{index}]: backprop {analytic[index]}, finite differences {numeric}");
                checkedCount++;
            }
        }
        Assert.Equal(20, checkedCount);
    }

    [Fact]
    public void A_value_gradient_on_a_value_no_layer_of_the_pass_computes_is_refused()
    {
        var student = Network.Build(SmallCnn.Create(5), 5);
        student.Training = true;
        student.Forward([2, 1, 28, 28], RandomValues(2 * 28 * 28, 2));
        // b1 is fused into BatchNorm→Relu in training unless hooked.
        var error = Assert.Throws<ArgumentException>(() => student.Backward(new float[20], [("b1", new float[2 * 16 * 28 * 28])]));
        Assert.Contains("b1", error.Message);
    }

    [Fact]
    public void The_adversarial_term_s_gradient_matches_finite_differences()
    {
        var discriminator = new Discriminator(10, 16, seed: 4);
        const int n = 6;
        var student = RandomValues(n * 10, 3, 3f);
        var gradient = new float[n * 10];
        var loss = discriminator.GeneratorLoss(n, student, gradient);
        Assert.True(loss > 0);
        var scratch = new float[n * 10];
        for (var i = 0; i < student.Length; i++)
        {
            var kept = student[i];
            student[i] = kept + 1e-3f;
            var plus = discriminator.GeneratorLoss(n, student, scratch);
            student[i] = kept - 1e-3f;
            var minus = discriminator.GeneratorLoss(n, student, scratch);
            student[i] = kept;
            var numeric = (plus - minus) / ((double)(kept + 1e-3f) - (kept - 1e-3f));
            Assert.True(Math.Abs(numeric - gradient[i]) <= 1e-5 + 1e-3 * Math.Abs(numeric), $"input {i}: {gradient[i]} against {numeric}");
        }
    }

    [Fact]
    public void The_discriminator_steps_down_the_finite_difference_gradient_of_its_cross_entropy()
    {
        const int n = 5, inputs = 10, hidden = 8;
        var teacher = RandomValues(n * inputs, 5, 4f);
        var student = RandomValues(n * inputs, 6, 2f);
        var discriminator = new Discriminator(inputs, hidden, seed: 9);
        var start = discriminator.ExportState();
        var parameterCount = hidden * inputs + hidden + hidden + 1;

        double CrossEntropy(byte[] state)
        {
            var d = new Discriminator(inputs, hidden, seed: 0);
            d.ImportState(state);
            return d.Score(n, teacher).Sum(t => Softplus(-t)) / n + d.Score(n, student).Sum(s => Softplus(s)) / n;
        }

        var before = discriminator.TrainStep(n, teacher, student, rate: 0.5f);
        Assert.Equal(CrossEntropy(start), before, 1e-9);
        // The first momentum step leaves the gradient itself in the velocity buffers, which follow the weights.
        var after = discriminator.ExportState();
        var velocity = new float[parameterCount];
        Buffer.BlockCopy(after, 8 + parameterCount * 4, velocity, 0, parameterCount * 4);
        Assert.True(CrossEntropy(after) < before);
        for (var k = 0; k < parameterCount; k++)
        {
            var weight = BitConverter.ToSingle(start, 8 + k * 4);
            byte[] With(float value)
            {
                var state = (byte[])start.Clone();
                BitConverter.GetBytes(value).CopyTo(state, 8 + k * 4);
                return state;
            }
            const float h = 1e-3f;
            var numeric = (CrossEntropy(With(weight + h)) - CrossEntropy(With(weight - h))) / ((double)(weight + h) - (weight - h));
            Assert.True(Math.Abs(numeric - velocity[k]) <= 1e-5 + 1e-3 * Math.Abs(numeric), $"parameter {k}: {velocity[k]} against {numeric}");
        }
    }

    [Fact]
    public void A_transfer_step_is_deterministic_and_its_state_resumes_the_same_training()
    {
        var loader = new BatchLoader(DatasetFolder.Open("/usr/share/datasets/fashion-mnist", DatasetSplit.Train, limit: 256),
            new BatchLoaderOptions { BatchSize = 64, Normalization = ChannelNormalization.FashionMnist });
        var teacher = Network.Build(SmallCnn.Create(11), 11);

        float[][] Train(bool interrupt)
        {
            var student = Network.Build(SmallCnn.Create(5), 5);
            TransferTrainer Trainer() => new(student, teacher, new SgdOptions { Momentum = 0.9f, Nesterov = true }, 0, 4f, 0.5f,
                new AttentionTransferOptions(["r1", "r2"]), new AdversarialOptions(0.2f, 16, 0.05f, Seed: 3));
            var trainer = Trainer();
            var i = 0;
            foreach (var batch in loader.GetBatches(0))
            {
                if (interrupt && i == 2)
                {
                    var state = trainer.ExportState();
                    trainer.Dispose();
                    trainer = Trainer();
                    trainer.ImportState(state);
                }
                trainer.Step(batch, 0.02f);
                i++;
            }
            Assert.Equal(4, i);
            trainer.Dispose();
            return student.Parameters.Select(p => p.Value.Data.ToArray()).ToArray();
        }

        var straight = Train(interrupt: false);
        Assert.Equal(straight, Train(interrupt: false));
        Assert.Equal(straight, Train(interrupt: true));
    }

    private static double Softplus(double x) => Math.Max(x, 0) + Math.Log(1 + Math.Exp(-Math.Abs(x)));
}
