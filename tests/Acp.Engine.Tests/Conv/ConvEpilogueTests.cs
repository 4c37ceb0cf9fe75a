using Acp.Engine.Kernels;
using static Acp.Engine.Tests.Conv.ConvTestSupport;

namespace Acp.Engine.Tests.Conv;

/// <summary>
/// The fused store (y = act(conv + bias + residual)) on every kernel path against the double reference convolution
/// followed by the residual and ReLU computed apart.
/// </summary>
public sealed class ConvEpilogueTests
{
    private static readonly Conv2d.Path?[] Paths = [null, Conv2d.Path.Gemm, Conv2d.Path.Spatial, Conv2d.Path.ByChannel];

    public static TheoryData<string> Cases => new(ConvCases.Convolutions.Keys.Concat(Extra.Keys));

    /// <summary>ResNet shapes the by-channel kernel takes, including a width whose last run overlaps the previous one.</summary>
    private static readonly Dictionary<string, ConvGeometry> Extra = new()
    {
        ["resnet 16->16 10x10"] = MakeConv(2, 16, 10, 10, 16, 3, 3, pt: 1, pl: 1, pb: 1, pr: 1),
        ["resnet 32->64 stride2 9x9"] = MakeConv(2, 32, 9, 9, 64, 3, 3, 2, 2, 1, 1, 1, 1),
        ["resnet 64->64 7x7"] = MakeConv(3, 64, 7, 7, 64, 3, 3, pt: 1, pl: 1, pb: 1, pr: 1),
        ["resnet 16->48 15x15"] = MakeConv(2, 16, 15, 15, 48, 3, 3, pt: 1, pl: 1, pb: 1, pr: 1),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Fused_store_matches_conv_then_add_then_relu(string name)
    {
        var g = ConvCases.Convolutions.TryGetValue(name, out var known) ? known : Extra[name];
        var rng = new Random(name.GetHashCode(StringComparison.Ordinal) + 11);
        var x = RandomFloats(rng, g.InputLength);
        var w = RandomFloats(rng, g.WeightLength);
        var b = RandomFloats(rng, g.OutChannels);
        var residual = RandomFloats(rng, g.OutputLength);
        var conv = Reference.ConvForward(g, ToDouble(x, x.Length), ToDouble(w, w.Length), ToDouble(b, b.Length));

        foreach (var (withResidual, relu) in new[] { (true, true), (true, false), (false, true) })
        {
            var expected = conv.Select((v, i) =>
            {
                var sum = v + (withResidual ? residual[i] : 0);
                return relu ? Math.Max(sum, 0) : sum;
            }).ToArray();
            foreach (var path in Paths)
            {
                var y = Output(g.OutputLength);
                var epilogue = new ConvEpilogue(withResidual ? Input(residual) : null, relu);
                ConvKernelTests.WithPath(path, () => Conv2d.Forward(g, Input(x), Input(w), Input(b), y, epilogue));
                AssertClose(expected, y, 1e-4, $"{g} (residual {withResidual}, relu {relu}, path {path})");
                AssertSentinels(y, g.OutputLength, $"{g} (path {path})");
                if (relu) Assert.All(y.Take((int)g.OutputLength), v => Assert.True(v >= 0f, $"{g}: negative output {v} after ReLU (path {path})"));
            }
        }
    }

    [Fact]
    public void A_residual_that_is_the_output_buffer_is_refused()
    {
        var g = MakeConv(1, 2, 5, 5, 2, 3, 3, pt: 1, pl: 1, pb: 1, pr: 1);
        var y = new float[g.OutputLength];
        var error = Assert.Throws<ArgumentException>(() =>
            Conv2d.Forward(g, new float[g.InputLength], new float[g.WeightLength], null, y, new ConvEpilogue(y, true)));
        Assert.Contains("residual", error.Message, StringComparison.OrdinalIgnoreCase);
    }
}
