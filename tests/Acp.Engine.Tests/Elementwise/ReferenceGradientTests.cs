using Acp.Engine.Kernels;
using static Acp.Engine.Tests.Elementwise.ElementwiseTestSupport;

namespace Acp.Engine.Tests.Elementwise;

/// <summary>
/// The double-precision references' backward passes against central finite differences on tiny shapes: the proof
/// that every elementwise op's gradient formula is right. The float kernels are then checked against these references.
/// </summary>
public class ReferenceGradientTests
{
    [Fact]
    public void BatchNorm_training_gradients_match_finite_differences()
    {
        const int n = 2, c = 3, hw = 4;
        const double eps = 1e-3;
        var rng = new Random(11);
        var x = RandomDoubles(rng, n * c * hw);
        var scale = RandomDoubles(rng, c, 0.5, 1.5);
        var bias = RandomDoubles(rng, c);
        var w = RandomDoubles(rng, n * c * hw);

        var (dx, dscale, dbias) = ReferenceBatchNorm.Backward(n, c, hw, x, w, scale, eps);

        AssertGradient(v => Weighted(w, ReferenceBatchNorm.TrainingForward(n, c, hw, v, scale, bias, eps)), x, dx, "dx");
        AssertGradient(v => Weighted(w, ReferenceBatchNorm.TrainingForward(n, c, hw, x, v, bias, eps)), scale, dscale, "dscale");
        AssertGradient(v => Weighted(w, ReferenceBatchNorm.TrainingForward(n, c, hw, x, scale, v, eps)), bias, dbias, "dbias");
    }

    [Theory]
    [InlineData(Act.Relu)]
    [InlineData(Act.LeakyRelu)]
    [InlineData(Act.Clip)]
    [InlineData(Act.Sigmoid)]
    [InlineData(Act.HardSigmoid)]
    [InlineData(Act.HardSwish)]
    [InlineData(Act.Tanh)]
    public void Activation_gradients_match_finite_differences(Act act)
    {
        var rng = new Random(12 + (int)act);
        // Wide enough to cover every piece of HardSigmoid (kinks at ±2.5) and HardSwish (±3); points within 1e-3 of a
        // kink are moved, since a derivative does not exist there.
        var x = RandomDoubles(rng, 64, -6, 6);
        foreach (var kink in ReferenceActivations.Kinks(act))
        {
            for (var i = 0; i < x.Length; i++)
            {
                if (Math.Abs(x[i] - kink) < 1e-3)
                {
                    x[i] = kink + 0.01;
                }
            }
        }

        var w = RandomDoubles(rng, x.Length);

        AssertGradient(v => Weighted(w, ReferenceActivations.Forward(act, v)), x, ReferenceActivations.Backward(act, x, w), act.ToString());
    }

    public static TheoryData<BinaryOp, int[], int[]> TinyBroadcasts()
    {
        var data = new TheoryData<BinaryOp, int[], int[]>();
        int[][][] shapes =
        [
            [[2, 3], [2, 3]],
            [[2, 3, 2], [3, 1]],
            [[2, 1, 2, 1], [1, 3, 1, 2]],
            [[2, 3], [1]],
            [[1], [2, 3]],
            [[3], [2, 1, 3]],
            [[], [2, 2]],
        ];
        foreach (var op in Enum.GetValues<BinaryOp>())
        {
            foreach (var pair in shapes)
            {
                data.Add(op, pair[0], pair[1]);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(TinyBroadcasts))]
    public void Broadcast_gradients_match_finite_differences(BinaryOp op, int[] shapeA, int[] shapeB)
    {
        var rng = new Random(13);
        var a = RandomDoubles(rng, Count(shapeA));
        // Divisors kept away from 0, where a/b is steep and finite differences lose accuracy.
        var b = RandomDoubles(rng, Count(shapeB), 0.5, 2).Select(v => rng.Next(2) == 0 ? v : -v).ToArray();
        var w = RandomDoubles(rng, Count(ReferenceBroadcast.ResultShape(shapeA, shapeB)));

        var (da, db) = ReferenceBroadcast.Backward(op, shapeA, a, shapeB, b, w);

        AssertGradient(v => Weighted(w, ReferenceBroadcast.Forward(op, shapeA, v, shapeB, b)), a, da, $"{op} da");
        AssertGradient(v => Weighted(w, ReferenceBroadcast.Forward(op, shapeA, a, shapeB, v)), b, db, $"{op} db");
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.1)]
    [InlineData(1.0)]
    public void Cross_entropy_gradient_matches_finite_differences(double smoothing)
    {
        const int n = 3, classes = 4;
        var rng = new Random(14);
        var logits = RandomDoubles(rng, n * classes, -3, 3);
        int[] labels = [2, 0, 3];

        var (_, grad) = ReferenceLosses.CrossEntropy(n, classes, logits, labels, smoothing);

        AssertGradient(v => ReferenceLosses.CrossEntropy(n, classes, v, labels, smoothing).Loss, logits, grad, "dlogits");
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(4.0)]
    public void Distillation_gradient_matches_finite_differences(double temperature)
    {
        const int n = 2, classes = 5;
        var rng = new Random(15);
        var student = RandomDoubles(rng, n * classes, -3, 3);
        var teacher = RandomDoubles(rng, n * classes, -3, 3);

        var (_, grad) = ReferenceLosses.Distillation(n, classes, student, teacher, temperature);

        AssertGradient(v => ReferenceLosses.Distillation(n, classes, v, teacher, temperature).Loss, student, grad, "dstudent");
    }

    [Fact]
    public void Attention_transfer_gradient_matches_finite_differences()
    {
        const int n = 2, cS = 3, cT = 2, hw = 5;
        var rng = new Random(16);
        var student = RandomDoubles(rng, n * cS * hw);
        var teacher = RandomDoubles(rng, n * cT * hw);

        var grad = ReferenceLosses.AttentionTransferGradient(n, cS, cT, hw, student, teacher);

        AssertGradient(v => ReferenceLosses.AttentionTransfer(n, cS, cT, hw, v, teacher), student, grad, "dstudent");
    }
}
