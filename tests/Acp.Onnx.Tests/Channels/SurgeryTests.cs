using Acp.Onnx.Channels;
using Acp.Onnx.Ir;
using Acp.Onnx.Tests.Support;

namespace Acp.Onnx.Tests.Channels;

/// <summary>Channel surgery: exact reproduction when nothing is removed, concrete slicing, copy-on-write, validation.</summary>
public sealed class SurgeryTests
{
    private static OnnxModel Load(string file) => OnnxModel.Load(Fixtures.PathOf(file));

    public static TheoryData<string> RunnableFixtures => new(
        Fixtures.TorchvisionFiles.Concat(Fixtures.EdgeFiles.Where(f => !f.Contains(".noort.", StringComparison.Ordinal))).Append("tiny_cnn.onnx").Append("tiny_mlp.onnx"));

    [Theory]
    [MemberData(nameof(RunnableFixtures))]
    public void Keeping_every_channel_reproduces_the_outputs_bitwise(string file)
    {
        var model = Load(file);
        var analysis = ChannelAnalysis.Run(model);
        var result = ChannelSurgery.Apply(PruningPlan.KeepAll(analysis));

        Assert.True(result.Report.IsUnchanged);
        Assert.Equal(analysis.PrunableGroups.Count, result.Report.Groups.Count);
        var shape = OrtHarness.InputShape(model, 2);
        var input = OrtHarness.RandomInput(shape, file.Length);
        var expected = OrtHarness.Run(model, input, shape);
        var actual = OrtHarness.Run(result.Model, input, shape);
        Assert.Equal(expected.Shape, actual.Shape);
        Assert.True(expected.Data.AsSpan().SequenceEqual(actual.Data), $"{file}: keep-all surgery changed the outputs");
        SurgeryAssertions.AssertClean(result.Model);
    }

    [Theory]
    [MemberData(nameof(RunnableFixtures))]
    public void Randomly_pruned_fixture_loads_in_onnx_runtime_and_infers_cleanly(string file)
    {
        var model = Load(file);
        var analysis = ChannelAnalysis.Run(model);
        var result = ChannelSurgery.Apply(analysis, OperatorRuleTests.RandomKeep(analysis, file.Length));

        SurgeryAssertions.AssertClean(result.Model);
        var shape = OrtHarness.InputShape(model, 2);
        var (_, outputShape) = OrtHarness.Run(result.Model, OrtHarness.RandomInput(shape, 1), shape);
        Assert.Equal(OrtHarness.Run(model, OrtHarness.RandomInput(shape, 1), shape).Shape, outputShape);
        Assert.Equal(analysis.PrunableGroups.Sum(g => g.Width) - result.Report.Groups.Sum(g => g.KeptWidth), result.Report.ChannelsRemoved);
    }

    [Theory]
    [InlineData("edge_grouped_conv.onnx")]
    [InlineData("edge_unknown_op.noort.onnx")]
    public void A_model_whose_groups_are_all_fenced_prunes_to_itself_with_a_report(string file)
    {
        var model = Load(file);
        var analysis = ChannelAnalysis.Run(model);
        Assert.Empty(analysis.PrunableGroups);
        // Naming a fenced group with all its channels is allowed and changes nothing.
        var keep = analysis.Groups.ToDictionary(g => g.Id, g => Enumerable.Range(0, g.Width).ToArray());

        var result = ChannelSurgery.Apply(analysis, keep);

        Assert.Equal(model.ToBytes(), result.Model.ToBytes());
        Assert.True(result.Report.IsUnchanged);
        Assert.Equal(analysis.Groups.Count, result.Report.FencedGroups.Count);
        Assert.Contains("fenced", result.Report.ToString(), StringComparison.Ordinal);
        Assert.Contains(file.Contains("grouped", StringComparison.Ordinal) ? "grouped convolution" : "unknown operator com.acp.test::Mystery",
            result.Report.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Concat_twice_removes_both_copies_of_each_channel_from_the_consumer()
    {
        var model = Load("edge_concat_same_twice.onnx");
        var analysis = ChannelAnalysis.Run(model);
        var id = analysis.PrunableGroups.Single().Id;

        var pruned = ChannelSurgery.Apply(analysis, new Dictionary<int, int[]> { [id] = [1, 3] }).Model;

        var (w1, w1Before) = (Weight(pruned, "Conv_1", 1), Weight(model, "Conv_1", 1));
        Assert.Equal([2L, 3, 3, 3], w1.Dims);
        Assert.Equal(Slice(w1Before, 0, [1, 3]), w1.Floats);
        var w2 = Weight(pruned, "Conv_2", 1);
        Assert.Equal([2L, 4, 3, 3], w2.Dims);
        Assert.Equal(Slice(Weight(model, "Conv_2", 1), 1, [1, 3, 5, 7]), w2.Floats);
    }

    [Fact]
    public void Flatten_gemm_keeps_the_column_blocks_of_the_kept_channels()
    {
        var model = Load("edge_flatten_gemm.onnx");
        var analysis = ChannelAnalysis.Run(model);

        var pruned = ChannelSurgery.Apply(analysis, new Dictionary<int, int[]> { [analysis.PrunableGroups.Single().Id] = [0, 2] }).Model;

        var fc = pruned.Graph.Initializers["fc.weight"];
        Assert.Equal([5L, 72], fc.Dims);
        var columns = Enumerable.Range(0, 36).Concat(Enumerable.Range(72, 36)).ToArray();
        Assert.Equal(Slice(model.Graph.Initializers["fc.weight"], 1, columns), fc.Floats);
    }

    [Fact]
    public void Reshape_target_that_states_the_channel_count_is_rewritten()
    {
        var model = Load("edge_reshape_explicit.onnx");
        var analysis = ChannelAnalysis.Run(model);

        var pruned = ChannelSurgery.Apply(analysis, new Dictionary<int, int[]> { [analysis.PrunableGroups.Single().Id] = [3] }).Model;

        Assert.Equal([1L, 64], pruned.Graph.Initializers["reshape_shape"].Int64s);
        Assert.Equal([64L, 5], pruned.Graph.Initializers["fc.weight"].Dims);
        Assert.Equal([1L, 256], model.Graph.Initializers["reshape_shape"].Int64s);
    }

    [Fact]
    public void Resize_sizes_that_state_the_channel_count_are_rewritten()
    {
        var analysis = ChannelAnalysis.Run(ChannelModels.ResizeSizes());

        var pruned = ChannelSurgery.Apply(analysis, new Dictionary<int, int[]> { [analysis.PrunableGroups[0].Id] = [1, 2] }).Model;

        Assert.Equal([1L, 2, 16, 16], pruned.Graph.Initializers["sizes"].Int64s);
    }

    [Fact]
    public void Depthwise_group_count_shrinks_with_its_channels()
    {
        var model = Load("edge_depthwise.onnx");
        var analysis = ChannelAnalysis.Run(model);

        var pruned = ChannelSurgery.Apply(analysis, new Dictionary<int, int[]> { [analysis.PrunableGroups.Single().Id] = [0, 4, 5] }).Model;

        var depthwise = pruned.Graph.Nodes.Single(n => n.Name == "Conv_2");
        Assert.Equal(3, depthwise.GetInt("group", 1));
        Assert.Equal([3L, 1, 3, 3], Weight(pruned, "Conv_2", 1).Dims);
        Assert.Equal([4L, 3, 1, 1], Weight(pruned, "Conv_3", 1).Dims);
    }

    [Fact]
    public void Equal_split_gets_explicit_sizes_when_the_halves_differ()
    {
        var model = ChannelModels.SplitEqual();
        var analysis = ChannelAnalysis.Run(model);

        var result = ChannelSurgery.Apply(analysis, new Dictionary<int, int[]> { [analysis.PrunableGroups.Single().Id] = [0, 1, 2, 7] });

        var split = result.Model.Graph.Nodes.Single(n => n.OpType == "Split");
        Assert.Equal([3L, 1], result.Model.Graph.Initializers[split.Inputs[1]].Int64s);
        Assert.Equal([split.Inputs[1]], result.Report.AddedInitializers);
    }

    [Fact]
    public void Split_attribute_and_slice_attributes_are_rewritten_in_old_opsets()
    {
        var split = ChannelModels.SplitAttributeOpset11();
        var analysis = ChannelAnalysis.Run(split);
        var pruned = ChannelSurgery.Apply(analysis, new Dictionary<int, int[]> { [analysis.PrunableGroups.Single().Id] = [1, 2, 6] }).Model;
        Assert.Equal([2L, 1], pruned.Graph.Nodes.Single(n => n.OpType == "Split").GetInts("split")!);

        var slice = ChannelModels.SliceAttributesOpset9();
        analysis = ChannelAnalysis.Run(slice);
        var group = analysis.PrunableGroups.First(g => g.Width == 8);
        pruned = ChannelSurgery.Apply(analysis, new Dictionary<int, int[]> { [group.Id] = [0, 3, 4, 7] }).Model;
        var node = pruned.Graph.Nodes.Single(n => n.OpType == "Slice");
        Assert.Equal([1L], node.GetInts("starts")!);
        Assert.Equal([3L], node.GetInts("ends")!);
    }

    [Fact]
    public void A_bias_shared_through_identity_with_an_unpruned_conv_is_copied_not_sliced()
    {
        var model = Load("edge_identity_shared_bias.onnx");
        var analysis = ChannelAnalysis.Run(model);

        var result = ChannelSurgery.Apply(analysis, new Dictionary<int, int[]> { [analysis.PrunableGroups.Single().Id] = [0, 3] });

        var graph = result.Model.Graph;
        var copy = Assert.Single(result.Report.Copies);
        Assert.Equal("conv_1.bias", copy.Source);
        Assert.Equal(copy.Copy, graph.Nodes.Single(n => n.OpType == "Conv" && n.Outputs[0] != "output").Inputs[2]);
        Assert.Equal([2L], graph.Initializers[copy.Copy].Dims);
        // The second conv still reads the full bias through its Identity.
        Assert.Equal([4L], graph.Initializers["conv_1.bias"].Dims);
        Assert.Equal("conv_2.bias", graph.Nodes.Single(n => n.Outputs[0] == "output").Inputs[2]);
        Assert.Contains(graph.Nodes, n => n.OpType == "Identity" && n.Outputs[0] == "conv_2.bias");
    }

    [Fact]
    public void A_directly_shared_parameter_is_copied_for_the_pruned_reader_only()
    {
        var model = ChannelModels.SharedWeight();
        var analysis = ChannelAnalysis.Run(model);

        var result = ChannelSurgery.Apply(analysis, new Dictionary<int, int[]> { [analysis.PrunableGroups.Single().Id] = [1, 2] });

        var copy = Assert.Single(result.Report.Copies);
        Assert.Equal("shared_scale", copy.Source);
        var bns = result.Model.Graph.Nodes.Where(n => n.OpType == "BatchNormalization").ToList();
        Assert.Equal([copy.Copy, "shared_scale"], bns.Select(n => n.Inputs[1]));
        Assert.Equal([4L], result.Model.Graph.Initializers["shared_scale"].Dims);
    }

    [Fact]
    public void Surgery_leaves_the_input_model_untouched_and_declares_fresh_shapes()
    {
        var model = Load("resnet18.bn.onnx");
        var before = model.ToBytes();
        var analysis = ChannelAnalysis.Run(model);

        var result = ChannelSurgery.Apply(analysis, OperatorRuleTests.RandomKeep(analysis, 7));

        Assert.Equal(before, model.ToBytes());
        Assert.NotEmpty(result.Model.Graph.ValueInfos);
        SurgeryAssertions.AssertClean(result.Model);
        Assert.True(result.Report.ChannelsRemoved > 0);
        Assert.Empty(result.Report.Copies);
    }

    [Fact]
    public void Invalid_keep_sets_are_refused_with_clear_messages()
    {
        var analysis = ChannelAnalysis.Run(Load("edge_residual_add.onnx"));
        var id = analysis.PrunableGroups.Single().Id;
        var fenced = analysis.FencedGroups.First(g => g.Width > 1).Id;

        string Refused(Dictionary<int, int[]> keep) => Assert.Throws<ArgumentException>(() => ChannelSurgery.Apply(analysis, keep)).Message;

        Assert.StartsWith("There is no group 99; the analysis has groups 0..", Refused(new() { [99] = [0] }), StringComparison.Ordinal);
        Assert.StartsWith($"Group {id} must keep at least one channel.", Refused(new() { [id] = [] }), StringComparison.Ordinal);
        Assert.StartsWith($"The keep-set of group {id} must be sorted ascending without repeats; 1 at position 1 follows 2.", Refused(new() { [id] = [2, 1] }), StringComparison.Ordinal);
        Assert.StartsWith($"The keep-set of group {id} must be sorted ascending without repeats; 2 at position 1 follows 2.", Refused(new() { [id] = [2, 2] }), StringComparison.Ordinal);
        Assert.StartsWith($"Group {id} has 4 channels (0..3); keep index 4 at position 1 is out of range.", Refused(new() { [id] = [0, 4] }), StringComparison.Ordinal);
        Assert.StartsWith($"Group {id} has 4 channels (0..3); keep index -1 at position 0 is out of range.", Refused(new() { [id] = [-1] }), StringComparison.Ordinal);
        Assert.StartsWith($"Group {fenced} is fenced (", Refused(new() { [fenced] = [0] }), StringComparison.Ordinal);
    }

    [Fact]
    public void Keep_sets_that_would_empty_a_split_output_are_refused()
    {
        var analysis = ChannelAnalysis.Run(ChannelModels.SplitEqual());
        var keep = new Dictionary<int, int[]> { [analysis.PrunableGroups.Single().Id] = [4, 6] };

        Assert.Equal(["split_out0"], PruningPlan.EmptiedValues(analysis, keep));
        var message = Assert.Throws<ArgumentException>(() => ChannelSurgery.Apply(analysis, keep)).Message;
        Assert.StartsWith("The keep-sets remove every channel of 'split_out0', which would leave a tensor with no channels; keep at least one of: group 1 channels 0,1,2,3.",
            message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(64, 32.0, 8, 32)]
    [InlineData(64, 35.9, 8, 32)]
    [InlineData(64, 36.0, 8, 40)]
    [InlineData(64, 2.0, 8, 8)]
    [InlineData(64, 0.0, 8, 8)]
    [InlineData(6, 3.0, 8, 6)]
    [InlineData(12, 11.0, 8, 8)]
    [InlineData(14, 13.0, 8, 14)]
    [InlineData(10, 4.6, 1, 5)]
    [InlineData(10, 0.2, 1, 1)]
    public void Widths_round_to_the_nearest_multiple_within_the_group(int width, double target, int multiple, int expected) =>
        Assert.Equal(expected, ChannelRounding.RoundWidth(width, target, multiple));

    private static OnnxTensor Weight(OnnxModel model, string node, int input) =>
        model.Graph.Initializers[model.Graph.Nodes.Single(n => n.Name == node).Inputs[input]];

    /// <summary>The elements of <paramref name="tensor"/> at positions <paramref name="kept"/> of <paramref name="axis"/>, row-major.</summary>
    private static float[] Slice(OnnxTensor tensor, int axis, int[] kept)
    {
        var dims = tensor.Dims;
        var outer = dims.Take(axis).Aggregate(1L, (a, b) => a * b);
        var inner = dims.Skip(axis + 1).Aggregate(1L, (a, b) => a * b);
        var result = new List<float>();
        for (var o = 0L; o < outer; o++)
        {
            foreach (var k in kept) result.AddRange(tensor.Floats.AsSpan((int)((o * dims[axis] + k) * inner), (int)inner).ToArray());
        }
        return result.ToArray();
    }
}
