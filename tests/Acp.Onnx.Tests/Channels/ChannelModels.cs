using Acp.Onnx.Ir;

namespace Acp.Onnx.Tests.Channels;

/// <summary>
/// Small models built in the IR for the channel rules the generated fixtures do not reach: Slice and Split on the
/// channel axis, channel shuffles, per-channel operands, squeeze-excitation, older opsets. Input [batch,3,8,8]
/// unless stated; weights are seeded random values, BatchNormalization statistics non-trivial.
/// </summary>
public static class ChannelModels
{
    /// <summary>Every model by name, for theories.</summary>
    public static IReadOnlyDictionary<string, Func<OnnxModel>> All { get; } = new Dictionary<string, Func<OnnxModel>>
    {
        ["slices"] = Slices,
        ["split_equal"] = SplitEqual,
        ["split_attribute_opset11"] = SplitAttributeOpset11,
        ["slice_attributes_opset9"] = SliceAttributesOpset9,
        ["channel_shuffle"] = ChannelShuffle,
        ["pad_channels"] = PadChannels,
        ["prelu"] = PRelu,
        ["concat_constant"] = ConcatConstant,
        ["reshape_targets"] = ReshapeTargets,
        ["matmul_rank3"] = MatMulRank3,
        ["per_channel_operands"] = PerChannelOperands,
        ["linear_head"] = LinearHead,
        ["squeeze_excitation"] = SqueezeExcitation,
        ["softmax_channels"] = SoftmaxChannels,
        ["depthwise_multiplier"] = DepthwiseMultiplier,
        ["shared_weight"] = SharedWeight,
        ["upsample_concat"] = UpsampleConcat,
        ["resize_sizes"] = ResizeSizes,
        ["more_elementwise"] = MoreElementwise,
    };

    /// <summary>The models the compute engine can run (it lacks PRelu, rank-3 MatMul and a few others).</summary>
    public static IEnumerable<string> EngineRunnable =>
        All.Keys.Except(["prelu", "matmul_rank3", "softmax_channels", "slice_attributes_opset9", "upsample_concat", "resize_sizes", "more_elementwise"]);

    /// <summary>Conv(3→8) → Relu → Slice [2,6) and Slice [-3,end) on axis 1, a spatial Slice → Concat (7) → Conv(7→4).</summary>
    public static OnnxModel Slices()
    {
        var b = new ChannelModelBuilder("slices", 1);
        var r = b.Op("Relu", [b.Conv(b.Input, 3, 8)]);
        var a = b.Op("Slice", [r, b.Ints("a_starts", 2), b.Ints("a_ends", 6), b.Ints("a_axes", 1), b.Ints("a_steps", 1)]);
        var c = b.Op("Slice", [r, b.Ints("c_starts", -3), b.Ints("c_ends", long.MaxValue), b.Ints("c_axes", -3)]);
        var s = b.Op("Slice", [r, b.Ints("s_starts", 0, 0), b.Ints("s_ends", 8, 8), b.Ints("s_axes", 2, 3)]);
        var joined = b.Op("Concat", [a, c], NodeAttribute.FromInt("axis", 1));
        var side = b.Conv(s, 8, 7, k: 1);
        var sum = b.Op("Add", [joined, side]);
        return b.Build(b.Conv(sum, 7, 4));
    }

    /// <summary>Conv(3→8) → Split into two equal halves (no sizes given) → Conv(4→4) each → Add.</summary>
    public static OnnxModel SplitEqual()
    {
        var b = new ChannelModelBuilder("split_equal", 2);
        var parts = b.Ops("Split", [b.Conv(b.Input, 3, 8)], 2, NodeAttribute.FromInt("axis", 1));
        return b.Build(b.Op("Add", [b.Conv(parts[0], 4, 4), b.Conv(parts[1], 4, 4)]));
    }

    /// <summary>Opset 11: Conv(3→8) → BN → Split with the split attribute [3,5] → Conv(3→4), Conv(5→4) → Add.</summary>
    public static OnnxModel SplitAttributeOpset11()
    {
        var b = new ChannelModelBuilder("split_attribute_opset11", 3, opset: 11);
        var parts = b.Ops("Split", [b.Bn(b.Conv(b.Input, 3, 8), 8)], 2, NodeAttribute.FromInt("axis", 1), NodeAttribute.FromInts("split", [3, 5]));
        return b.Build(b.Op("Add", [b.Conv(parts[0], 3, 4), b.Conv(parts[1], 5, 4)]));
    }

    /// <summary>Opset 9: Conv(3→8) → Relu → Slice with starts/ends/axes attributes [1,7) on axis 1 → Conv(6→4).</summary>
    public static OnnxModel SliceAttributesOpset9()
    {
        var b = new ChannelModelBuilder("slice_attributes_opset9", 4, opset: 9);
        var r = b.Op("Relu", [b.Conv(b.Input, 3, 8)]);
        var s = b.Op("Slice", [r], NodeAttribute.FromInts("starts", [1]), NodeAttribute.FromInts("ends", [7]), NodeAttribute.FromInts("axes", [1]));
        return b.Build(b.Conv(s, 6, 4));
    }

    /// <summary>Conv(3→8) → Reshape [0,2,4,8,8] → Transpose [0,2,1,3,4] → Reshape [0,8,8,8] → Conv(8→4): a ShuffleNet channel shuffle.</summary>
    public static OnnxModel ChannelShuffle()
    {
        var b = new ChannelModelBuilder("channel_shuffle", 5);
        var x = b.Op("Reshape", [b.Conv(b.Input, 3, 8), b.Ints("to5d", 0, 2, 4, 8, 8)]);
        var t = b.Op("Transpose", [x], NodeAttribute.FromInts("perm", [0, 2, 1, 3, 4]));
        var y = b.Op("Reshape", [t, b.Ints("to4d", 0, 8, 8, 8)]);
        return b.Build(b.Conv(y, 8, 4));
    }

    /// <summary>Conv(3→4) → Pad one channel on each side → Conv(6→4).</summary>
    public static OnnxModel PadChannels()
    {
        var b = new ChannelModelBuilder("pad_channels", 6);
        var p = b.Op("Pad", [b.Conv(b.Input, 3, 4), b.Ints("pads", 0, 1, 0, 0, 0, 1, 0, 0)]);
        return b.Build(b.Conv(p, 6, 4));
    }

    /// <summary>Conv(3→6) → PRelu (slope [6,1,1]) → PRelu (one shared slope) → GlobalMaxPool → Flatten → Gemm(6→3).</summary>
    public static OnnxModel PRelu()
    {
        var b = new ChannelModelBuilder("prelu", 7);
        var x = b.Op("PRelu", [b.Conv(b.Input, 3, 6), b.Floats("slope", 6, 1, 1)]);
        x = b.Op("PRelu", [x, b.Floats("shared_slope", 1)]);
        var f = b.Op("Flatten", [b.Op("GlobalMaxPool", [x])]);
        return b.Build(b.Op("Gemm", [f, b.Floats("fc.w", 3, 6), b.Floats("fc.b", 3)], NodeAttribute.FromInt("transB", 1)));
    }

    /// <summary>Batch 1: Conv(3→4) → Concat with a constant [1,2,8,8] → Conv(6→4).</summary>
    public static OnnxModel ConcatConstant()
    {
        var b = new ChannelModelBuilder("concat_constant", 8, batch: 1);
        var c = b.Op("Concat", [b.Conv(b.Input, 3, 4), b.Floats("extra", 1, 2, 8, 8)], NodeAttribute.FromInt("axis", 1));
        return b.Build(b.Conv(c, 6, 4));
    }

    /// <summary>Conv(3→4) → Reshape [0,4,-1] (states the channels) → Relu → Reshape [0,-1] → Gemm(256→5, transB 0).</summary>
    public static OnnxModel ReshapeTargets()
    {
        var b = new ChannelModelBuilder("reshape_targets", 9);
        var x = b.Op("Reshape", [b.Conv(b.Input, 3, 4), b.Ints("keep_channels", 0, 4, -1)]);
        var f = b.Op("Reshape", [b.Op("Relu", [x]), b.Ints("flatten", 0, -1)]);
        return b.Build(b.Op("Gemm", [f, b.Floats("fc.w", 256, 5), b.Floats("fc.b", 5)]));
    }

    /// <summary>Conv(3→4) → Reshape [0,4,64] → MatMul by [64,5] (rank 3: multiplies positions, not channels) → Flatten → Gemm.</summary>
    public static OnnxModel MatMulRank3()
    {
        var b = new ChannelModelBuilder("matmul_rank3", 10);
        var x = b.Op("Reshape", [b.Conv(b.Input, 3, 4), b.Ints("shape", 0, 4, 64)]);
        var m = b.Op("MatMul", [x, b.Floats("w", 64, 5)]);
        var f = b.Op("Flatten", [m]);
        return b.Build(b.Op("Gemm", [f, b.Floats("fc.w", 3, 20)], NodeAttribute.FromInt("transB", 1)));
    }

    /// <summary>
    /// Opset 14 (HardSwish): Conv(3→6) → Mul [1,6,1,1] → Add [6,1,1] → Sub scalar → Div [1] → Sigmoid → HardSigmoid → HardSwish → Tanh →
    /// LeakyRelu → Clip → Dropout → Identity → MaxPool → AveragePool → Conv(6→4).
    /// </summary>
    public static OnnxModel PerChannelOperands()
    {
        var b = new ChannelModelBuilder("per_channel_operands", 11, opset: 14);
        var x = b.Op("Mul", [b.Conv(b.Input, 3, 6), b.Floats("scale", 1, 6, 1, 1)]);
        x = b.Op("Add", [b.Floats("shift", 6, 1, 1), x]);
        x = b.Op("Sub", [x, b.Floats("offset")]);
        x = b.Op("Div", [x, b.Floats("divisor", 1)]);
        foreach (var op in new[] { "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "LeakyRelu" }) x = b.Op(op, [x]);
        x = b.Op("Clip", [x, b.Scalar("lo", -0.5f), b.Scalar("hi", 0.9f)]);
        x = b.Op("Identity", [b.Op("Dropout", [x])]);
        x = b.Op("MaxPool", [x], NodeAttribute.FromInts("kernel_shape", [2, 2]));
        x = b.Op("AveragePool", [x], NodeAttribute.FromInts("kernel_shape", [2, 2]));
        return b.Build(b.Conv(x, 6, 4));
    }

    /// <summary>Conv(3→8) → GlobalAveragePool → Flatten → Gemm(8→6, transB 0) → Relu → MatMul(6→5) → Add bias [5].</summary>
    public static OnnxModel LinearHead()
    {
        var b = new ChannelModelBuilder("linear_head", 12);
        var f = b.Op("Flatten", [b.Op("GlobalAveragePool", [b.Conv(b.Input, 3, 8)])]);
        var h = b.Op("Relu", [b.Op("Gemm", [f, b.Floats("fc1.w", 8, 6), b.Floats("fc1.b", 1, 6)])]);
        return b.Build(b.Op("Add", [b.Op("MatMul", [h, b.Floats("fc2.w", 6, 5)]), b.Floats("fc2.b", 5)]));
    }

    /// <summary>
    /// x = Relu(BN(Conv(3→8))); s = Sigmoid(Conv(2→8)(Relu(Conv(8→2)(GlobalAveragePool(x))))); Conv(8→4)(x · s):
    /// a squeeze-excitation block, whose Mul joins the excitation conv's channels to x's.
    /// </summary>
    public static OnnxModel SqueezeExcitation()
    {
        var b = new ChannelModelBuilder("squeeze_excitation", 13);
        var x = b.Op("Relu", [b.Bn(b.Conv(b.Input, 3, 8), 8)]);
        var s = b.Conv(b.Op("Relu", [b.Conv(b.Op("GlobalAveragePool", [x]), 8, 2, k: 1)]), 2, 8, k: 1);
        var y = b.Op("Mul", [x, b.Op("Sigmoid", [s])]);
        return b.Build(b.Conv(y, 8, 4));
    }

    /// <summary>Conv(3→4) → Softmax over the channels → Conv(4→4): not understood, so fenced.</summary>
    public static OnnxModel SoftmaxChannels()
    {
        var b = new ChannelModelBuilder("softmax_channels", 14);
        return b.Build(b.Conv(b.Op("Softmax", [b.Conv(b.Input, 3, 4)], NodeAttribute.FromInt("axis", 1)), 4, 4));
    }

    /// <summary>Conv(3→4) → Conv(group 4, 4→8): depthwise with a channel multiplier, which is grouped, not depthwise → Conv(8→4).</summary>
    public static OnnxModel DepthwiseMultiplier()
    {
        var b = new ChannelModelBuilder("depthwise_multiplier", 15);
        var d = b.Conv(b.Conv(b.Input, 3, 4), 4, 8, group: 4);
        return b.Build(b.Conv(d, 8, 4));
    }

    /// <summary>
    /// Two branches Conv(3→4) → BN share one BatchNormalization scale initializer, read directly by both; only one
    /// branch is prunable (the other reaches the output), so the scale must be copied, not sliced in place.
    /// </summary>
    public static OnnxModel SharedWeight()
    {
        var b = new ChannelModelBuilder("shared_weight", 16);
        var scale = b.Floats("shared_scale", 4);
        var pruned = b.Op("BatchNormalization", [b.Conv(b.Input, 3, 4), scale, b.Floats("bn1.b", 4), b.Floats("bn1.m", 4), b.Positive("bn1.v", 4)]);
        var kept = b.Op("BatchNormalization", [b.Conv(b.Input, 3, 4), scale, b.Floats("bn2.b", 4), b.Floats("bn2.m", 4), b.Positive("bn2.v", 4)]);
        return b.Build(b.Op("Add", [b.Conv(b.Op("Relu", [pruned]), 4, 4), kept]));
    }

    /// <summary>
    /// An FPN/YOLO-style neck: Conv(3→4, stride 2) → Resize ×2 (scales) → Concat with Conv(3→4) at full size → Conv(8→4).
    /// </summary>
    public static OnnxModel UpsampleConcat()
    {
        var b = new ChannelModelBuilder("upsample_concat", 17);
        var coarse = b.Op("Conv", [b.Input, b.Floats("down.w", 4, 3, 3, 3), b.Floats("down.b", 4)],
            NodeAttribute.FromInts("kernel_shape", [3, 3]), NodeAttribute.FromInts("pads", [1, 1, 1, 1]), NodeAttribute.FromInts("strides", [2, 2]));
        var up = b.Op("Resize", [coarse, "", b.Values("scales", 1, 1, 2, 2)], NodeAttribute.FromString("mode", "nearest"));
        var joined = b.Op("Concat", [up, b.Conv(b.Input, 3, 4)], NodeAttribute.FromInt("axis", 1));
        return b.Build(b.Conv(joined, 8, 4));
    }

    /// <summary>Batch 1: Conv(3→4) → Resize to sizes [1,4,16,16] (states the channel count) → Conv(4→4).</summary>
    public static OnnxModel ResizeSizes()
    {
        var b = new ChannelModelBuilder("resize_sizes", 18, batch: 1);
        var up = b.Op("Resize", [b.Conv(b.Input, 3, 4), "", "", b.Ints("sizes", 1, 4, 16, 16)], NodeAttribute.FromString("mode", "nearest"));
        return b.Build(b.Conv(up, 4, 4));
    }

    /// <summary>
    /// Conv(3→6) → Pow 2 → Max [1,6,1,1] → Min scalar → Sum with Conv(3→6) (merges the two) → Abs → Sqrt → Exp →
    /// Cast to float → Mean with itself → Conv(6→4).
    /// </summary>
    public static OnnxModel MoreElementwise()
    {
        var b = new ChannelModelBuilder("more_elementwise", 19);
        var x = b.Op("Pow", [b.Conv(b.Input, 3, 6), b.Scalar("two", 2)]);
        x = b.Op("Max", [x, b.Floats("floor", 1, 6, 1, 1)]);
        x = b.Op("Min", [x, b.Scalar("ceiling", 3)]);
        x = b.Op("Sum", [x, b.Conv(b.Input, 3, 6)]);
        x = b.Op("Exp", [b.Op("Sqrt", [b.Op("Abs", [x])])]);
        x = b.Op("Cast", [x], NodeAttribute.FromInt("to", (long)ElementType.Float));
        return b.Build(b.Conv(b.Op("Mean", [x, x]), 6, 4));
    }
}
