using Acp.Engine.Kernels;
using static Acp.Engine.Tests.Elementwise.ElementwiseTestSupport;
using R = Acp.Engine.Tests.Elementwise.ReferenceActivations;

namespace Acp.Engine.Tests.Elementwise;

public class ActivationTests
{
    /// <summary>Runs the kernel for <paramref name="act"/> with the reference's parameters.</summary>
    internal static void Forward(Act act, int count, float[] x, float[] y)
    {
        switch (act)
        {
            case Act.Relu: Activations.ReluForward(count, x, y); break;
            case Act.LeakyRelu: Activations.LeakyReluForward(count, x, y, (float)R.Alpha); break;
            case Act.Clip: Activations.ClipForward(count, x, y, (float)R.ClipMin, (float)R.ClipMax); break;
            case Act.Sigmoid: Activations.SigmoidForward(count, x, y); break;
            case Act.HardSigmoid: Activations.HardSigmoidForward(count, x, y, (float)R.HsAlpha, (float)R.HsBeta); break;
            case Act.HardSwish: Activations.HardSwishForward(count, x, y); break;
            case Act.Tanh: Activations.TanhForward(count, x, y); break;
        }
    }

    internal static void Backward(Act act, int count, float[] x, float[] y, float[] dy, float[] dx)
    {
        switch (act)
        {
            case Act.Relu: Activations.ReluBackward(count, x, y, dy, dx); break;
            case Act.LeakyRelu: Activations.LeakyReluBackward(count, x, y, dy, dx, (float)R.Alpha); break;
            case Act.Clip: Activations.ClipBackward(count, x, y, dy, dx, (float)R.ClipMin, (float)R.ClipMax); break;
            case Act.Sigmoid: Activations.SigmoidBackward(count, x, y, dy, dx); break;
            case Act.HardSigmoid: Activations.HardSigmoidBackward(count, x, y, dy, dx, (float)R.HsAlpha, (float)R.HsBeta); break;
            case Act.HardSwish: Activations.HardSwishBackward(count, x, y, dy, dx); break;
            case Act.Tanh: Activations.TanhBackward(count, x, y, dy, dx); break;
        }
    }

    public static TheoryData<Act, int> Cases()
    {
        var data = new TheoryData<Act, int>();
        foreach (var act in Enum.GetValues<Act>())
        {
            // Odd sizes leave scalar tails after the vector loops; 100 003 spans several parallel blocks.
            foreach (var count in new[] { 1, 7, 64, 1000, 100_003 })
            {
                data.Add(act, count);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_and_backward_match_the_reference(Act act, int count)
    {
        var rng = new Random(count + (int)act);
        var x = RandomFloats(rng, count, -7, 7, slack: 3);
        // Exact kink values are covered by their own test; here they would only test the rounding of x.
        var dy = RandomFloats(rng, count, slack: 3);
        var y = Poisoned(count);
        var dx = Poisoned(count);

        Forward(act, count, x, y);
        Backward(act, count, x, y, dy, dx);

        var xd = ToDouble(x, count);
        AssertClose(R.Forward(act, xd), y, 1e-5, 1e-6, $"{act} y");
        // The reference derivative is evaluated at the same float x, so kinks agree; derivatives from y carry y's
        // rounding, hence the absolute tolerance.
        AssertClose(R.Backward(act, xd, ToDouble(dy, count)), dx, 1e-4, 1e-6, $"{act} dx");
        AssertSlackUntouched(y, count);
        AssertSlackUntouched(dx, count);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void In_place_gives_the_same_result(Act act, int count)
    {
        var rng = new Random(count * 3 + (int)act);
        var x = RandomFloats(rng, count, -7, 7);
        var dy = RandomFloats(rng, count);
        var y = new float[count];
        var dx = new float[count];
        Forward(act, count, x, y);
        Backward(act, count, x, y, dy, dx);

        var inPlaceY = (float[])x.Clone();
        Forward(act, count, inPlaceY, inPlaceY);
        var inPlaceDx = (float[])dy.Clone();
        Backward(act, count, x, y, inPlaceDx, inPlaceDx);

        Assert.Equal(y, inPlaceY);
        Assert.Equal(dx, inPlaceDx);
    }

    [Fact]
    public void Gradients_at_the_kinks_follow_pytorch()
    {
        // x values exactly at the kinks (padded to 19 elements so that both the vector loop and the scalar tail run).
        float[] kinks = [0f, -0.5f, 1.5f, -2.5f, 2.5f, -3f, 3f];
        var x = kinks.Concat(kinks).Concat(kinks).Take(19).ToArray();
        var dy = Enumerable.Repeat(2f, x.Length).ToArray();
        var dx = new float[x.Length];

        Activations.ReluBackward(x.Length, x, null, dy, dx);
        Assert.Equal(0f, dx[0]); // Relu'(0) = 0

        Activations.LeakyReluBackward(x.Length, x, null, dy, dx, 0.1f);
        Assert.Equal(0.2f, dx[0]); // LeakyRelu'(0) = alpha

        Activations.ClipBackward(x.Length, x, null, dy, dx, -0.5f, 1.5f);
        Assert.Equal([2f, 2f, 2f], dx[..3]); // the bounds are inside, as torch.clamp

        Activations.HardSigmoidBackward(x.Length, x, null, dy, dx, 0.2f, 0.5f);
        Assert.Equal([0f, 0f], dx[3..5]); // 0 at both kinks
        Assert.Equal(0.4f, dx[0]);

        Activations.HardSwishBackward(x.Length, x, null, dy, dx);
        Assert.Equal(-1f, dx[5]); // −0.5·dy at −3
        Assert.Equal(3f, dx[6]); // 1.5·dy at 3
        Assert.Equal(1f, dx[0]); // 0.5·dy at 0
        for (var i = 7; i < x.Length; i++)
        {
            Assert.Equal(dx[i % kinks.Length], dx[i]);
        }
    }

    [Fact]
    public void Relu6_is_clip_from_0_to_6_and_hard_sigmoid_uses_onnx_defaults()
    {
        float[] x = [-1, 0, 3, 6, 7, float.NaN];
        var y = new float[x.Length];

        Activations.ClipForward(x.Length, x, y, 0, 6);
        Assert.Equal([0f, 0f, 3f, 6f, 6f], y[..5]);
        Assert.True(float.IsNaN(y[5]));

        Activations.HardSigmoidForward(5, x, y);
        AssertClose([0.3, 0.5, 1, 1, 1], y, 1e-6, 0, "hard sigmoid");
    }

    [Fact]
    public void Short_buffers_and_reversed_clip_bounds_are_rejected()
    {
        var error = Assert.Throws<ArgumentException>(() => Activations.ReluForward(10, new float[9], new float[10]));
        Assert.Contains("9", error.Message);
        Assert.Contains("10", error.Message);
        Assert.Throws<ArgumentException>(() => Activations.SigmoidBackward(10, null, new float[10], new float[10], new float[8]));
        Assert.Throws<ArgumentException>(() => Activations.ClipForward(1, new float[1], new float[1], 2, 1));
    }
}
