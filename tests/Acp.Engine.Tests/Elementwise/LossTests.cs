using Acp.Engine.Kernels;
using static Acp.Engine.Tests.Elementwise.ElementwiseTestSupport;

namespace Acp.Engine.Tests.Elementwise;

public class LossTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 10)]
    [InlineData(7, 33)]
    [InlineData(256, 1000)]
    public void Softmax_matches_the_reference_and_works_in_place(int n, int classes)
    {
        var rng = new Random(n + classes);
        var x = RandomFloats(rng, n * classes, -8, 8, slack: 2);
        var y = Poisoned(n * classes);

        Losses.Softmax(n, classes, x, y);

        AssertClose(ReferenceLosses.Softmax(n, classes, ToDouble(x, n * classes)), y, 1e-5, 1e-7, "softmax");
        AssertSlackUntouched(y, n * classes);
        var inPlace = (float[])x.Clone();
        Losses.Softmax(n, classes, inPlace, inPlace);
        Assert.Equal(y[..(n * classes)], inPlace[..(n * classes)]);
    }

    [Fact]
    public void Softmax_of_huge_logits_does_not_overflow()
    {
        float[] x = [1000, 1000, 999, -1000];
        var y = new float[4];

        Losses.Softmax(1, 4, x, y);

        var e = Math.Exp(-1);
        AssertClose([1 / (2 + e), 1 / (2 + e), e / (2 + e), 0], y, 1e-6, 1e-7, "softmax");
    }

    [Theory]
    [InlineData(1, 2, 0.0f)]
    [InlineData(5, 10, 0.0f)]
    [InlineData(5, 10, 0.1f)]
    [InlineData(64, 1000, 0.1f)]
    [InlineData(4, 7, 1.0f)]
    public void Cross_entropy_matches_the_reference(int n, int classes, float smoothing)
    {
        var rng = new Random(n * classes);
        var logits = RandomFloats(rng, n * classes, -5, 5, slack: 2);
        var labels = Enumerable.Range(0, n).Select(_ => rng.Next(classes)).ToArray();
        var grad = Poisoned(n * classes);

        var loss = Losses.SoftmaxCrossEntropy(n, classes, logits, labels, smoothing, grad);

        var (eloss, egrad) = ReferenceLosses.CrossEntropy(n, classes, ToDouble(logits, n * classes), labels, smoothing);
        AssertNear(eloss, loss, 1e-5, 1e-6, "loss");
        AssertClose(egrad, grad, 1e-4, 1e-8, "dlogits");
        AssertSlackUntouched(grad, n * classes);
        Assert.Equal(loss, Losses.SoftmaxCrossEntropy(n, classes, logits, labels, smoothing, null));
        var inPlace = (float[])logits.Clone();
        Assert.Equal(loss, Losses.SoftmaxCrossEntropy(n, classes, inPlace, labels, smoothing, inPlace));
        Assert.Equal(grad[..(n * classes)], inPlace[..(n * classes)]);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(10)]
    [InlineData(1000)]
    public void Cross_entropy_of_uniform_logits_is_ln_classes_with_or_without_smoothing(int classes)
    {
        const int n = 3;
        var logits = Enumerable.Repeat(0.75f, n * classes).ToArray();
        int[] labels = [0, classes - 1, classes / 2];
        var grad = new float[n * classes];

        Assert.Equal(Math.Log(classes), Losses.SoftmaxCrossEntropy(n, classes, logits, labels, 0f, grad), 5);
        Assert.Equal(Math.Log(classes), Losses.SoftmaxCrossEntropy(n, classes, logits, labels, 0.2f, null), 5);
        // Without smoothing the gradient is (1/K − onehot)/n.
        Assert.Equal((1.0 / classes - 1) / n, grad[0], 6);
        Assert.Equal(1.0 / classes / n, grad[1], 6);
    }

    [Fact]
    public void Label_smoothing_matches_a_hand_computed_case()
    {
        // Logits [0, ln 3] give p = [1/4, 3/4]. Label 1 with ε = 0.2 and K = 2: t = [0.1, 0.9].
        // loss = −(0.1·ln 0.25 + 0.9·ln 0.75) = 0.1·1.3862943611 + 0.9·0.2876820725 = 0.3975433014;
        // gradient = p − t = [0.15, −0.15].
        float[] logits = [0, MathF.Log(3)];
        var grad = new float[2];

        var loss = Losses.SoftmaxCrossEntropy(1, 2, logits, [1], 0.2f, grad);

        Assert.Equal(0.3975433014, loss, 6);
        Assert.Equal(0.15, grad[0], 6);
        Assert.Equal(-0.15, grad[1], 6);
    }

    [Fact]
    public void Bad_labels_are_rejected_with_the_label_and_its_index()
    {
        var logits = new float[15];
        var tooLarge = Assert.Throws<ArgumentException>(() => Losses.SoftmaxCrossEntropy(3, 5, logits, [0, 4, 5], 0f, null));
        Assert.Contains("Label 5 at index 2", tooLarge.Message);
        Assert.Equal("labels", tooLarge.ParamName);

        var negative = Assert.Throws<ArgumentException>(() => Losses.SoftmaxCrossEntropy(3, 5, logits, [-1, 0, 0], 0f, null));
        Assert.Contains("Label -1 at index 0", negative.Message);

        Assert.Throws<ArgumentException>(() => Losses.SoftmaxCrossEntropy(3, 5, logits, [0, 0], 0f, null));
        Assert.Throws<ArgumentException>(() => Losses.SoftmaxCrossEntropy(3, 5, logits, [0, 0, 0], 1.5f, null));
    }

    [Theory]
    [InlineData(1, 2, 1f)]
    [InlineData(4, 10, 2f)]
    [InlineData(32, 1000, 4f)]
    public void Distillation_matches_the_reference(int n, int classes, float temperature)
    {
        var rng = new Random(n + classes);
        var total = n * classes;
        var student = RandomFloats(rng, total, -6, 6, slack: 2);
        var teacher = RandomFloats(rng, total, -6, 6, slack: 2);
        var grad = Poisoned(total);

        var loss = Losses.Distillation(n, classes, student, teacher, temperature, grad);

        var (eloss, egrad) = ReferenceLosses.Distillation(n, classes, ToDouble(student, total), ToDouble(teacher, total), temperature);
        AssertNear(eloss, loss, 1e-4, 1e-6, "loss");
        AssertClose(egrad, grad, 1e-4, 1e-8, "dstudent");
        AssertSlackUntouched(grad, total);
        Assert.Equal(loss, Losses.Distillation(n, classes, student, teacher, temperature, null));
    }

    [Fact]
    public void Distillation_matches_a_hand_computed_case()
    {
        // T = 2. Student [0, 0] gives q = [1/2, 1/2]; teacher [0, 2·ln 3] gives p = softmax([0, ln 3]) = [1/4, 3/4].
        // KL(p‖q) = 0.25·ln(0.5) + 0.75·ln(1.5) = 0.1308120359; times T² = 0.5232481438.
        // Gradient T·(q − p)/n = 2·[0.25, −0.25] = [0.5, −0.5].
        float[] student = [0, 0];
        float[] teacher = [0, 2 * MathF.Log(3)];
        var grad = new float[2];

        var loss = Losses.Distillation(1, 2, student, teacher, 2f, grad);

        Assert.Equal(0.5232481438, loss, 6);
        Assert.Equal(0.5, grad[0], 6);
        Assert.Equal(-0.5, grad[1], 6);
    }

    [Fact]
    public void Distillation_of_identical_logits_is_zero()
    {
        float[] logits = [1, -2, 3, 0.5f, 0.25f, -1];
        var grad = new float[6];

        Assert.Equal(0, Losses.Distillation(2, 3, logits, logits, 3f, grad), 6);
        Assert.All(grad, g => Assert.Equal(0, g, 7));
        Assert.Throws<ArgumentException>(() => Losses.Distillation(2, 3, logits, logits, 0f, null));
    }

    [Theory]
    [InlineData(1, 1, 1, 1)]
    [InlineData(2, 3, 5, 7)]
    [InlineData(4, 16, 8, 14 * 14)]
    [InlineData(8, 64, 128, 28 * 28)]
    public void Attention_transfer_matches_the_reference(int n, int cS, int cT, int hw)
    {
        var rng = new Random(n + cS + cT + hw);
        var student = RandomFloats(rng, n * cS * hw, slack: 2);
        var teacher = RandomFloats(rng, n * cT * hw, slack: 2);
        var grad = Poisoned(n * cS * hw);

        var loss = Losses.AttentionTransfer(n, cS, cT, hw, student, teacher, grad);

        var sd = ToDouble(student, n * cS * hw);
        var td = ToDouble(teacher, n * cT * hw);
        AssertNear(ReferenceLosses.AttentionTransfer(n, cS, cT, hw, sd, td), loss, 1e-4, 1e-7, "loss");
        if (hw <= 200)
        {
            // The reference gradient builds the hw×hw Jacobian; keep it to small maps.
            AssertClose(ReferenceLosses.AttentionTransferGradient(n, cS, cT, hw, sd, td), grad, 1e-4, 1e-7, "dstudent");
        }

        AssertSlackUntouched(grad, n * cS * hw);
        Assert.Equal(loss, Losses.AttentionTransfer(n, cS, cT, hw, student, teacher, null));
    }

    [Fact]
    public void Attention_transfer_ignores_channel_count_and_overall_scale()
    {
        // The teacher is the student with every channel repeated twice and scaled by 3: Σ_c x² changes by a factor of
        // 18 at every position, which the normalisation removes, so the maps agree and the loss and gradient vanish.
        const int n = 2, c = 3, hw = 6;
        var rng = new Random(21);
        var student = RandomFloats(rng, n * c * hw);
        var teacher = new float[n * 2 * c * hw];
        for (var i = 0; i < n; i++)
        for (var ch = 0; ch < 2 * c; ch++)
        for (var p = 0; p < hw; p++)
        {
            teacher[(i * 2 * c + ch) * hw + p] = 3 * student[(i * c + ch % c) * hw + p];
        }

        var grad = new float[student.Length];

        Assert.Equal(0, Losses.AttentionTransfer(n, c, 2 * c, hw, student, teacher, grad), 6);
        Assert.All(grad, g => Assert.Equal(0, g, 5));
    }

    [Fact]
    public void Losses_are_bitwise_reproducible()
    {
        var rng = new Random(22);
        const int n = 64, classes = 1000;
        var logits = RandomFloats(rng, n * classes, -5, 5);
        var teacher = RandomFloats(rng, n * classes, -5, 5);
        var labels = Enumerable.Range(0, n).Select(_ => rng.Next(classes)).ToArray();
        var g1 = new float[n * classes];
        var g2 = new float[n * classes];

        Assert.Equal(Losses.SoftmaxCrossEntropy(n, classes, logits, labels, 0.1f, g1), Losses.SoftmaxCrossEntropy(n, classes, logits, labels, 0.1f, g2));
        Assert.Equal(g1, g2);
        Assert.Equal(Losses.Distillation(n, classes, logits, teacher, 4f, g1), Losses.Distillation(n, classes, logits, teacher, 4f, g2));
        Assert.Equal(g1, g2);
    }
}
