using Acp.Onnx.Analysis;
using Acp.Onnx.Channels;
using Acp.Onnx.Ir;

namespace Acp.Onnx.Tests.Channels;

/// <summary>
/// The channel rules on hand-built models: what each operator does to groups, and that pruning each model
/// randomly gives a model ONNX Runtime runs exactly like the original with the removed channels masked to zero.
/// </summary>
public sealed class OperatorRuleTests
{
    private static ChannelSegment Segment(int start, int groupStart, int count, int block = 1) => new(start, groupStart, count, block);

    private static ChannelGroup GroupOf(ChannelAnalysis analysis, string value) => Assert.Single(analysis.MembershipsOf(value)).Group;

    [Fact]
    public void Slices_on_the_channel_axis_map_ranges_and_spatial_slices_pass_through()
    {
        var analysis = ChannelAnalysis.Run(ChannelModels.Slices());
        var group = GroupOf(analysis, "relu_out");

        Assert.True(group.IsPrunable);
        Assert.Equal(8, group.Width);
        Assert.Equal([Segment(0, 2, 4)], group.MemberOf("slice_out")!.Segments);
        Assert.Equal([Segment(0, 5, 3)], group.MemberOf("slice_1_out")!.Segments);
        Assert.Equal([Segment(0, 0, 8)], group.MemberOf("slice_2_out")!.Segments);
        Assert.Null(group.MemberOf("slice_out")!.Multiplicity);
        // The two slices overlap in channel 5, which the concatenation therefore holds twice (a block of 2); the side
        // conv adds into it, so its filters 3 and 4 are the same group channel and are removed together.
        Assert.Equal(2, group.Producers.Count);
        Assert.Equal([Segment(0, 2, 3), Segment(3, 5, 1, 2), Segment(5, 6, 2)], group.MemberOf("concat_out")!.Segments);
        Assert.Equal(group.MemberOf("concat_out")!.Segments, group.MemberOf("conv_1_out")!.Segments);
    }

    [Fact]
    public void Split_sizes_come_from_the_input_the_attribute_or_an_equal_split()
    {
        var equal = ChannelAnalysis.Run(ChannelModels.SplitEqual());
        var group = GroupOf(equal, "conv_out");
        Assert.Equal([Segment(0, 0, 4)], group.MemberOf("split_out0")!.Segments);
        Assert.Equal([Segment(0, 4, 4)], group.MemberOf("split_out1")!.Segments);

        var attribute = ChannelAnalysis.Run(ChannelModels.SplitAttributeOpset11());
        group = GroupOf(attribute, "batchnormalization_out");
        Assert.Equal([Segment(0, 0, 3)], group.MemberOf("split_out0")!.Segments);
        Assert.Equal([Segment(0, 3, 5)], group.MemberOf("split_out1")!.Segments);
    }

    [Fact]
    public void Opset9_slice_attributes_are_read()
    {
        var group = GroupOf(ChannelAnalysis.Run(ChannelModels.SliceAttributesOpset9()), "relu_out");
        Assert.Equal([Segment(0, 1, 6)], group.MemberOf("slice_out")!.Segments);
    }

    [Theory]
    [InlineData("channel_shuffle", "conv_out", "transpose", "its permutation [0,2,1,3,4] moves the channel axis (a channel shuffle or layout change)")]
    [InlineData("pad_channels", "conv_out", "pad", "it pads the channel axis by 1 before and 1 after")]
    [InlineData("matmul_rank3", "conv_out", "matmul", "it multiplies a rank-3 activation, whose axis 1 is not the one multiplied")]
    [InlineData("softmax_channels", "conv_out", "softmax", "operator Softmax is not understood by the channel analysis")]
    [InlineData("depthwise_multiplier", "conv_out", "conv_1", "grouped convolution (group 4, 4→8 channels) ties channels in blocks")]
    public void Operators_that_move_or_mix_channels_fence_with_a_reason(string model, string value, string node, string reason)
    {
        var analysis = ChannelAnalysis.Run(ChannelModels.All[model]());
        var group = GroupOf(analysis, value);

        Assert.False(group.IsPrunable);
        Assert.Contains(group.Fences, f => f.Node?.Name == node && f.Reason == reason);
    }

    [Fact]
    public void Prelu_binds_a_per_channel_slope_but_not_a_shared_one()
    {
        var analysis = ChannelAnalysis.Run(ChannelModels.PRelu());

        Assert.True(GroupOf(analysis, "prelu_1_out").IsPrunable);
        Assert.Contains(analysis.Bindings, b => b.Node.Name == "prelu" && b.InputIndex == 1 && b.Axis == 0);
        Assert.DoesNotContain(analysis.Bindings, b => b.Node.Name == "prelu_1");
    }

    [Fact]
    public void Concat_with_a_constant_fences_only_the_constant_channels()
    {
        var analysis = ChannelAnalysis.Run(ChannelModels.ConcatConstant());
        var memberships = analysis.MembershipsOf("concat_out");

        Assert.Equal(2, memberships.Count);
        Assert.True(memberships[0].Group.IsPrunable);
        Assert.Equal([Segment(0, 0, 4)], memberships[0].Member.Segments);
        Assert.Equal([Segment(4, 0, 2)], memberships[1].Member.Segments);
        Assert.Equal("channels [4,6) come from the constant 'extra'", memberships[1].Group.Fences.Single().Reason);
    }

    [Fact]
    public void Reshapes_that_keep_the_batch_follow_channels_into_blocks()
    {
        var group = GroupOf(ChannelAnalysis.Run(ChannelModels.ReshapeTargets()), "conv_out");

        Assert.Equal([Segment(0, 0, 4)], group.MemberOf("reshape_out")!.Segments);
        Assert.Equal([Segment(0, 0, 4, 64)], group.MemberOf("reshape_1_out")!.Segments);
        Assert.Equal("gemm", group.Consumers.Single().Node.Name);
    }

    [Fact]
    public void Per_channel_operands_are_bound_and_scalars_are_not()
    {
        var analysis = ChannelAnalysis.Run(ChannelModels.PerChannelOperands());

        Assert.True(GroupOf(analysis, "averagepool_out").IsPrunable);
        Assert.Contains(analysis.Bindings, b => b.Node.Name == "mul" && b.InputIndex == 1 && b.Axis == 1);
        Assert.Contains(analysis.Bindings, b => b.Node.Name == "add" && b.InputIndex == 0 && b.Axis == 0);
        Assert.DoesNotContain(analysis.Bindings, b => b.Node.Name is "sub" or "div" or "clip");
    }

    [Fact]
    public void A_linear_head_has_a_group_per_hidden_layer_and_binds_a_row_bias()
    {
        var analysis = ChannelAnalysis.Run(ChannelModels.LinearHead());

        Assert.Equal([8, 6], analysis.PrunableGroups.Select(g => g.Width));
        Assert.Contains(analysis.Bindings, b => b.Node.Name == "gemm" && b.InputIndex == 2 && b.Axis == 1);
        Assert.Contains(analysis.Bindings, b => b.Node.Name == "gemm" && b.InputIndex == 1 && b.Axis == 0 && b.Value == "flatten_out");
    }

    [Fact]
    public void Squeeze_excitation_joins_the_excitation_conv_to_the_features_it_scales()
    {
        var analysis = ChannelAnalysis.Run(ChannelModels.SqueezeExcitation());
        var features = GroupOf(analysis, "relu_out");

        Assert.Equal(["conv", "conv_2"], features.Producers.Select(p => p.Node.Name));
        Assert.Equal(["conv_1", "conv_3"], features.Consumers.Select(c => c.Node.Name));
        Assert.Equal([8, 2], analysis.PrunableGroups.Select(g => g.Width));
    }

    [Fact]
    public void Resize_by_scales_passes_channels_to_the_concatenation()
    {
        var analysis = ChannelAnalysis.Run(ChannelModels.UpsampleConcat());
        var group = GroupOf(analysis, "conv_out");

        Assert.True(group.IsPrunable);
        Assert.Equal(["conv_out", "resize_out", "concat_out"], group.Members.Select(m => m.Value));
        Assert.Equal([Segment(0, 0, 4)], group.MemberOf("concat_out")!.Segments);
        Assert.Equal([4, 4], analysis.PrunableGroups.Select(g => g.Width));
    }

    [Fact]
    public void Elementwise_variants_merge_and_bind_like_add()
    {
        var analysis = ChannelAnalysis.Run(ChannelModels.MoreElementwise());
        var group = GroupOf(analysis, "mean_out");

        Assert.True(group.IsPrunable);
        Assert.Equal(["conv", "conv_1"], group.Producers.Select(p => p.Node.Name));
        Assert.Contains(analysis.Bindings, b => b.Node.Name == "max" && b.Axis == 1);
        Assert.DoesNotContain(analysis.Bindings, b => b.Node.Name is "pow" or "min");
    }

    public static TheoryData<string> Models => new(ChannelModels.All.Keys);

    [Theory]
    [MemberData(nameof(Models))]
    public void Random_pruning_runs_like_the_masked_original(string name)
    {
        var model = ChannelModels.All[name]();
        var analysis = ChannelAnalysis.Run(model);
        FixtureGroupTests.AssertConsistent(analysis);
        var original = model.ToBytes();
        var shape = OrtHarness.InputShape(model, 2);
        for (var seed = 1; seed <= 3; seed++)
        {
            var plan = PruningPlan.Create(analysis, RandomKeep(analysis, seed));
            var result = ChannelSurgery.Apply(plan);
            var input = OrtHarness.RandomInput(shape, seed);

            var expected = OrtHarness.Run(MaskedReference.Build(plan), input, shape);
            var actual = OrtHarness.Run(result.Model, input, shape);

            Assert.Equal(expected.Shape, actual.Shape);
            OrtHarness.AssertClose(expected.Data, actual.Data, 1e-4, $"{name} seed {seed}");
            SurgeryAssertions.AssertClean(result.Model);
        }
        Assert.Equal(original, model.ToBytes());
    }

    /// <summary>
    /// A random non-empty proper subset of every prunable group wider than one channel, unrounded; a channel is added
    /// back wherever a value (a Split or Slice output) would lose all of its own.
    /// </summary>
    internal static Dictionary<int, int[]> RandomKeep(ChannelAnalysis analysis, int seed)
    {
        var random = new Random(seed);
        var keep = analysis.PrunableGroups.ToDictionary(g => g.Id, g =>
        {
            var order = Enumerable.Range(0, g.Width).ToArray();
            random.Shuffle(order);
            return order.Take(g.Width == 1 ? 1 : random.Next(1, g.Width)).Order().ToArray();
        });
        while (PruningPlan.EmptiedValues(analysis, keep).FirstOrDefault() is { } emptied)
        {
            var (group, member) = analysis.MembershipsOf(emptied).First(m => keep.ContainsKey(m.Group.Id));
            keep[group.Id] = [.. keep[group.Id].Append(member.Channels().First().GroupIndex).Order()];
        }
        return keep;
    }
}

/// <summary>Checks every surgery result must pass.</summary>
internal static class SurgeryAssertions
{
    /// <summary>Shape inference has nothing to say, and every declared intermediate shape is the inferred one.</summary>
    public static void AssertClean(OnnxModel model)
    {
        var shapes = ShapeInference.Run(model);
        Assert.Empty(shapes.Diagnostics);
        var produced = model.Graph.Nodes.SelectMany(n => n.Outputs).ToHashSet();
        foreach (var info in model.Graph.ValueInfos)
        {
            Assert.Contains(info.Name, produced);
            Assert.Equal(shapes.SymbolicShapes[info.Name], info.Shape);
        }
        model.Validate();
    }
}
