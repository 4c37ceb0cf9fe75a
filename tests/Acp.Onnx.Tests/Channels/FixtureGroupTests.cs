using Acp.Onnx.Channels;
using Acp.Onnx.Ir;
using Acp.Onnx.Tests.Support;

namespace Acp.Onnx.Tests.Channels;

/// <summary>Group membership on the generated edge-case models: which values, which channel ranges, which consumers.</summary>
public sealed class FixtureGroupTests
{
    private static ChannelAnalysis Analyse(string file) => ChannelAnalysis.Run(OnnxModel.Load(Fixtures.PathOf(file)));

    private static ChannelGroup OnlyPrunable(ChannelAnalysis analysis) => Assert.Single(analysis.PrunableGroups);

    private static ChannelSegment Segment(int start, int groupStart, int count, int block = 1) => new(start, groupStart, count, block);

    [Fact]
    public void Concat_of_the_same_tensor_twice_carries_each_channel_twice()
    {
        var analysis = Analyse("edge_concat_same_twice.onnx");
        var group = OnlyPrunable(analysis);

        Assert.Equal(4, group.Width);
        Assert.Equal(["Conv_1_out", "Concat_1_out"], group.Members.Select(m => m.Value));
        var concat = group.MemberOf("Concat_1_out")!;
        Assert.Equal([Segment(0, 0, 4), Segment(4, 0, 4)], concat.Segments);
        Assert.Equal(2, concat.Multiplicity);
        Assert.Equal("Conv_1", Assert.Single(group.Producers).Node.Name);
        var consumer = Assert.Single(group.Consumers);
        Assert.Equal(("Conv_2", "Concat_1_out"), (consumer.Node.Name, consumer.Input));
        Assert.Contains("[4,8)←[0,4)", group.Describe(), StringComparison.Ordinal);
    }

    [Fact]
    public void Split_after_concat_maps_each_output_back_to_both_producers()
    {
        var analysis = Analyse("edge_split_after_concat.onnx");
        Assert.Equal(2, analysis.PrunableGroups.Count);
        var (first, second) = (analysis.PrunableGroups[0], analysis.PrunableGroups[1]);

        Assert.Equal((4, "Conv_1"), (first.Width, first.Producers.Single().Node.Name));
        Assert.Equal((6, "Conv_2"), (second.Width, second.Producers.Single().Node.Name));
        Assert.Equal([Segment(0, 0, 4)], first.MemberOf("Split_1_out0")!.Segments);
        Assert.Null(first.MemberOf("Split_1_out1"));
        // The split boundary (5) straddles the concat boundary (4): output 0 holds conv 2's channel 0 too.
        Assert.Equal([Segment(4, 0, 1)], second.MemberOf("Split_1_out0")!.Segments);
        Assert.Equal([Segment(0, 1, 5)], second.MemberOf("Split_1_out1")!.Segments);
        Assert.Equal([Segment(4, 0, 6)], second.MemberOf("Concat_1_out")!.Segments);
        Assert.Equal(["Conv_3"], first.Consumers.Select(c => c.Node.Name));
        Assert.Equal(["Conv_3", "Conv_4"], second.Consumers.Select(c => c.Node.Name));
        Assert.Equal(2, analysis.MembershipsOf("Split_1_out0").Count);
    }

    [Fact]
    public void A_one_channel_conv_is_a_producer_of_width_one_not_a_depthwise_pass_through()
    {
        var analysis = Analyse("edge_one_channel_conv.onnx");
        var group = OnlyPrunable(analysis);

        Assert.Equal(1, group.Width);
        Assert.Equal(["Conv_1_out", "Relu_1_out"], group.Members.Select(m => m.Value));
        Assert.Equal("Conv_1", group.Producers.Single().Node.Name);
        Assert.Equal("Conv_2", group.Consumers.Single().Node.Name);
        // Conv_2 (1→4) produces its own group; it does not pass the single channel through.
        Assert.Contains(analysis.FencedGroups, g => g.Producers.Any(p => p.Node.Name == "Conv_2") && g.Width == 4);
    }

    [Fact]
    public void Flatten_gives_each_channel_its_block_of_gemm_columns()
    {
        var group = OnlyPrunable(Analyse("edge_flatten_gemm.onnx"));

        Assert.Equal(["Conv_1_out", "Relu_1_out", "Flatten_1_out"], group.Members.Select(m => m.Value));
        var flatten = group.MemberOf("Flatten_1_out")!;
        Assert.Equal([Segment(0, 0, 4, 36)], flatten.Segments);
        Assert.Equal((144, 36), (flatten.ChannelCount, flatten.Multiplicity));
        Assert.Equal(2, flatten.GroupIndexOf(72));
        var consumer = group.Consumers.Single();
        Assert.Equal(("Gemm_1", "Flatten_1_out"), (consumer.Node.Name, consumer.Input));
    }

    [Fact]
    public void Reshape_with_an_explicit_channel_count_maps_blocks_to_the_matmul()
    {
        var analysis = Analyse("edge_reshape_explicit.onnx");
        var group = OnlyPrunable(analysis);

        Assert.Equal([Segment(0, 0, 4, 64)], group.MemberOf("Reshape_1_out")!.Segments);
        Assert.Equal("MatMul_1", group.Consumers.Single().Node.Name);
        Assert.Contains(analysis.Bindings, b => b.Node.Name == "MatMul_1" && b.InputIndex == 1 && b.Axis == 0 && b.Value == "Reshape_1_out");
    }

    [Fact]
    public void Reshape_with_a_computed_batch_and_minus_one_follows_channels()
    {
        var group = OnlyPrunable(Analyse("edge_shape_gather_reshape.onnx"));

        Assert.Equal([Segment(0, 0, 4, 64)], group.MemberOf("Reshape_1_out")!.Segments);
        Assert.Equal("Gemm_1", group.Consumers.Single().Node.Name);
    }

    [Fact]
    public void Clip_bounds_are_neither_members_nor_sliced()
    {
        var analysis = Analyse("edge_clip_minmax.onnx");
        var group = OnlyPrunable(analysis);

        Assert.Equal(["Conv_1_out", "Clip_1_out"], group.Members.Select(m => m.Value));
        Assert.DoesNotContain(analysis.Bindings, b => b.Node.OpType == "Clip");
    }

    [Fact]
    public void Residual_add_merges_the_stem_with_the_block_and_the_output_fences_them()
    {
        var analysis = Analyse("edge_residual_add.onnx");

        var merged = Assert.Single(analysis.Groups, g => g.Producers.Count == 2);
        Assert.Equal(["Conv_1", "Conv_3"], merged.Producers.Select(p => p.Node.Name));
        Assert.Contains("Add_1_out", merged.Members.Select(m => m.Value));
        Assert.Contains(merged.Fences, f => f.Reason == "reaches graph output 'output'");
        var inner = OnlyPrunable(analysis);
        Assert.Equal(["Conv_2_out", "BatchNormalization_1_out", "Relu_2_out"], inner.Members.Select(m => m.Value));
        Assert.Equal("Conv_3", inner.Consumers.Single().Node.Name);
        Assert.Equal(4, analysis.Bindings.Count(b => b.Node.OpType == "BatchNormalization" && b.Value == "BatchNormalization_1_out"));
    }

    [Fact]
    public void Depthwise_conv_passes_channels_through_and_is_pruned_with_them()
    {
        var analysis = Analyse("edge_depthwise.onnx");
        var group = OnlyPrunable(analysis);

        Assert.Equal(8, group.Width);
        Assert.Equal(["Conv_1_out", "Conv_2_out"], group.Members.Select(m => m.Value));
        Assert.Equal(["Conv_1"], group.Producers.Select(p => p.Node.Name));
        Assert.Equal(["Conv_3"], group.Consumers.Select(c => c.Node.Name));
        Assert.Contains(analysis.Bindings, b => b.Node.Name == "Conv_2" && b.InputIndex == 1 && b.Axis == 0);
        Assert.DoesNotContain(analysis.Bindings, b => b.Node.Name == "Conv_2" && b.Axis == 1);
    }

    [Fact]
    public void Grouped_conv_fences_both_sides_with_its_reason()
    {
        var analysis = Analyse("edge_grouped_conv.onnx");

        Assert.Empty(analysis.PrunableGroups);
        var reason = "grouped convolution (group 2, 4→8 channels) ties channels in blocks";
        var fenced = analysis.Groups.Where(g => g.Fences.Any(f => f.Reason == reason && f.Node?.Name == "Conv_2")).ToList();
        Assert.Equal(2, fenced.Count);
        Assert.Contains(fenced, g => g.MemberOf("Relu_1_out") is not null);
        Assert.Contains(fenced, g => g.MemberOf("Conv_2_out") is not null);
    }

    [Fact]
    public void Unknown_operator_fences_without_throwing()
    {
        var analysis = Analyse("edge_unknown_op.noort.onnx");

        Assert.Empty(analysis.PrunableGroups);
        var group = Assert.Single(analysis.Groups, g => g.MemberOf("Conv_1_out") is not null);
        var fence = Assert.Single(group.Fences);
        Assert.Equal("unknown operator com.acp.test::Mystery", fence.Reason);
        Assert.Equal("Mystery_1", fence.Node!.Name);
        Assert.Equal("Mystery_1 (com.acp.test::Mystery): unknown operator com.acp.test::Mystery", fence.ToString());
        Assert.NotEmpty(analysis.Shapes.Diagnostics);
    }

    [Fact]
    public void Pools_and_pad_pass_channels_to_the_gemm()
    {
        var group = OnlyPrunable(Analyse("edge_maxpool_avgpool_pad.onnx"));

        Assert.Equal(["Conv_1_out", "MaxPool_1_out", "Pad_1_out", "AveragePool_1_out", "GlobalAveragePool_1_out", "Flatten_1_out"],
            group.Members.Select(m => m.Value));
        Assert.Equal("Gemm_1", group.Consumers.Single().Node.Name);
    }

    [Fact]
    public void Graph_input_and_output_groups_are_fenced_with_their_names()
    {
        var analysis = Analyse("tiny_mlp.onnx");

        Assert.Equal("reaches graph input 'input'", analysis.Groups[0].Fences.Single().Reason);
        Assert.Equal("reaches graph output 'output'", analysis.Groups[^1].Fences.Single().Reason);
        var hidden = OnlyPrunable(analysis);
        Assert.Equal((32, "MatMul_1", "MatMul_2"), (hidden.Width, hidden.Producers.Single().Node.Name, hidden.Consumers.Single().Node.Name));
        Assert.Equal(["MatMul_1_out", "Add_1_out", "Relu_1_out"], hidden.Members.Select(m => m.Value));
    }

    public static TheoryData<string, int, int> TorchvisionCounts => new()
    {
        // Prunable groups: residual stages merge their convolutions, inner convolutions are groups of their own
        // (ResNet-50: the stem, 2 per bottleneck, 4 stages), depthwise convolutions join their expansion's group,
        // DenseNet's every convolution is one.
        { "resnet18", 12, 2 }, { "resnet50", 37, 2 }, { "mobilenet_v2", 25, 2 }, { "densenet121", 120, 2 }, { "vgg11_bn", 9, 2 },
    };

    [Theory]
    [MemberData(nameof(TorchvisionCounts))]
    public void Torchvision_models_have_the_expected_groups_in_both_forms(string model, int prunable, int fenced)
    {
        foreach (var form in new[] { "bn", "folded" })
        {
            var analysis = Analyse($"{model}.{form}.onnx");
            Assert.Equal((prunable, fenced), (analysis.PrunableGroups.Count, analysis.FencedGroups.Count));
            Assert.Equal(["reaches graph input 'input'"], analysis.Groups[0].Fences.Select(f => f.Reason));
            Assert.Equal(["reaches graph output 'logits'"], analysis.Groups[^1].Fences.Select(f => f.Reason));
            AssertConsistent(analysis);
        }
    }

    [Fact]
    public void Mobilenet_depthwise_convolutions_are_members_of_their_expansion_group()
    {
        var analysis = Analyse("mobilenet_v2.bn.onnx");
        var depthwise = analysis.Model.Graph.Nodes.Where(n => n.OpType == "Conv" && n.GetInt("group", 1) > 1).ToList();

        Assert.Equal(17, depthwise.Count);
        foreach (var node in depthwise)
        {
            var group = Assert.Single(analysis.MembershipsOf(node.Outputs[0])).Group;
            Assert.True(group.IsPrunable, node.Name);
            Assert.DoesNotContain(group.Producers, p => p.Node == node);
            Assert.DoesNotContain(group.Consumers, c => c.Node == node);
        }
    }

    /// <summary>Every tracked value's channels belong to exactly one group each, and every group's channels appear in its members.</summary>
    internal static void AssertConsistent(ChannelAnalysis analysis)
    {
        foreach (var value in analysis.TrackedValues)
        {
            var owner = new int[analysis.ChannelCount(value)!.Value];
            foreach (var (group, member) in analysis.MembershipsOf(value))
            {
                foreach (var (channel, index) in member.Channels())
                {
                    Assert.InRange(index, 0, group.Width - 1);
                    owner[channel]++;
                }
            }
            Assert.All(owner, count => Assert.Equal(1, count));
        }
        foreach (var group in analysis.Groups)
        {
            var seen = new bool[group.Width];
            foreach (var member in group.Members)
            {
                foreach (var (_, index) in member.Channels()) seen[index] = true;
            }
            Assert.All(seen, Assert.True);
            foreach (var producer in group.Producers) Assert.NotNull(group.MemberOf(producer.Output));
            foreach (var consumer in group.Consumers) Assert.NotNull(group.MemberOf(consumer.Input));
        }
    }
}
