using Acp.Engine.Backends;
using Acp.Onnx.Channels;
using Acp.Onnx.Ir;

namespace Acp.Pruning.Pipeline;

/// <summary>
/// Soft filter pruning strategies (research notes §11.2–11.3): the full network is fine-tuned, and after every epoch the
/// filters of smallest L2 norm in each group are zeroed (SFP), decayed (ASRFP) or zeroed and progressively frozen (GHFP);
/// at the end the zeroed channels are removed by surgery. The target widths are the uniform ones of the baselines.
/// </summary>
/// <remarks>
/// A "filter" is every trainable slice that produces a group channel: producer weights and biases and the
/// BatchNormalization scale and shift. Zeroing the scale and shift too makes a zeroed channel exactly 0 after
/// normalisation, so removing it at the end changes nothing. Schedules, with t the 0-based epoch of E:
/// SFP prunes the final fraction P every epoch; ASRFP prunes P·(1 − (1 − (t+1)/E)³) (rising to P) and multiplies the
/// pruned filters by α_t = ½·(1 − (t+1)/E) (falling to 0, so the last epoch is hard); GHFP zeroes like SFP and masks
/// (freezes at zero, no gradient) the share (t+1)/E of them, weakest first.
/// </remarks>
/// <param name="asymptotic">ASRFP: the pruned share rises to the target and pruned filters are decayed, not zeroed.</param>
/// <param name="freezing">GHFP: a growing share of the zeroed channels is frozen at zero.</param>
internal sealed class SoftPruning(bool asymptotic, bool freezing) : IFineTuning
{
    /// <summary>SFP: the weakest filters zeroed after every epoch.</summary>
    public static SoftPruning Sfp { get; } = new(asymptotic: false, freezing: false);

    /// <summary>ASRFP: a rising share of the weakest filters decayed by a falling factor.</summary>
    public static SoftPruning Asrfp { get; } = new(asymptotic: true, freezing: false);

    /// <summary>GHFP: zeroed like SFP, and a growing share of them frozen.</summary>
    public static SoftPruning Ghfp { get; } = new(asymptotic: false, freezing: true);

    /// <summary>The whole network, and the accuracy of the plain hard cut (L1 channels) for comparison with the other strategies.</summary>
    public StartingPoint Build(PruningRun run, StructureChoice structure)
    {
        var options = run.Options;
        if (options.Epochs < 1) throw new ArgumentException($"{options.Strategy} prunes while fine-tuning; it needs at least one epoch.", "options");
        var builder = run.Builder(ChannelRanking.L1(run.Analysis, run.Groups));
        var (cut, _) = builder.Prune(structure.Widths);
        double before;
        using (var candidate = builder.Recalibrated(cut, run.Cancellation)) before = run.ValidationAccuracy(candidate);
        var full = run.Model.Clone();
        return new StartingPoint(new Candidate(full, options.Backend.Build(full, options.Seed)), before);
    }

    public IEnumerable<StageEstimate> Estimate(PruningRun run, WorkRates rates)
    {
        var (options, data) = (run.Options, run.Data);
        var images = (long)options.Epochs * data.Training.ImagesPerEpoch;
        // The hard cut is scored for comparison, then the whole network is trained.
        var seconds = rates.Candidate(data, data.Validation.ImagesPerEpoch) + rates.Build
            + images * (rates.OriginalTrainStep + (run.Teacher is not null ? rates.OriginalInference : 0));
        yield return new(PruningStage.FineTuning, StageEstimates.Seconds(seconds), $"{options.Epochs} epochs of {data.Training.ImagesPerEpoch} images on the whole network");
    }

    /// <summary>Fine-tunes the whole network, pruning softly after every epoch; the zeroed channels are removed at the end.</summary>
    public FineTuned Train(PruningRun run, StructureChoice structure, StartingPoint start)
    {
        var (analysis, groups, options, widths) = (run.Analysis, run.Groups, run.Options, structure.Widths);
        var slices = groups.Select(g => FilterSlices(analysis, g)).ToArray();
        var epochs = options.Epochs;
        void AfterEpoch(int epoch, ITrainableNetwork network)
        {
            var progressShare = (epoch + 1) / (double)epochs;
            for (var d = 0; d < groups.Count; d++)
            {
                var group = groups[d];
                var finalPruned = group.Width - widths[d];
                var pruned = asymptotic
                    ? (int)Math.Round(finalPruned * (1 - Math.Pow(1 - progressShare, 3)))
                    : finalPruned;
                var weakest = Weakest(network, slices[d], group.Width, pruned);
                var factor = asymptotic ? 0.5f * (float)(1 - progressShare) : 0f;
                Scale(network, slices[d], weakest, factor);
                if (freezing) Freeze(network, d, weakest, progressShare);
            }
        }

        // GHFP: the share (t+1)/E of the zeroed channels, lowest index first, stays at zero from now on. The order is by
        // index so that a resumed run, which sees only the zeroed weights, freezes the same channels.
        void Freeze(ITrainableNetwork network, int d, int[] zeroed, double share) =>
            Mask(network, groups[d], zeroed.Order().Take((int)Math.Round(zeroed.Length * share)).ToHashSet());

        void Resumed(int epoch, ITrainableNetwork network)
        {
            if (!freezing) return;
            for (var d = 0; d < groups.Count; d++)
            {
                Freeze(network, d, Weakest(network, slices[d], groups[d].Width, groups[d].Width - widths[d]), (epoch + 1) / (double)epochs);
            }
        }
        var (tuned, losses) = new FineTuner(options, run.Data.Training, run.Teacher)
            .Run(start.Candidate, epochs, run.Store, AfterEpoch, run.Progress, run.Cancellation, Resumed);

        // The zeroed channels are the weakest; surgery removes them.
        var orders = new Dictionary<int, IReadOnlyList<int>>();
        for (var d = 0; d < groups.Count; d++)
        {
            var norms = Norms(tuned.Network, slices[d], groups[d].Width);
            orders[groups[d].Id] = Enumerable.Range(0, groups[d].Width).OrderByDescending(c => norms[c]).ThenBy(c => c).ToArray();
        }
        var keep = ChannelRanking.FromOrders(analysis, groups, orders).KeepSets(widths);
        // Writing weights back can turn an Identity over a shared initializer into an initializer of its own, so the
        // trained model is analysed afresh and its groups matched to the original ones by the value they start from.
        var trained = tuned.ToModel();
        var trainedAnalysis = ChannelAnalysis.Run(trained);
        var byProducer = trainedAnalysis.PrunableGroups.Where(g => g.Producers.Count > 0).ToDictionary(g => g.Producers[0].Output, g => g.Id, StringComparer.Ordinal);
        var trainedKeep = keep.ToDictionary(
            kv => byProducer.TryGetValue(analysis.Group(kv.Key).Producers[0].Output, out var id) ? id
                : throw new InvalidOperationException($"Group {kv.Key} has no counterpart in the fine-tuned model."),
            kv => kv.Value);
        return new FineTuned(ChannelSurgery.Apply(trainedAnalysis, trainedKeep).Model, keep, losses);
    }

    /// <summary>A trainable slice producing group channels: parameter, axis, and per parameter index the group channel (−1 = other group).</summary>
    private sealed record FilterSlice(string Parameter, int Axis, int[] GroupIndex, bool CountsForNorm);

    private static FilterSlice[] FilterSlices(ChannelAnalysis analysis, ChannelGroup group)
    {
        var slices = new List<FilterSlice>();
        foreach (var binding in analysis.Bindings)
        {
            var member = group.MemberOf(binding.Value);
            if (member is null) continue;
            var producing = binding.Node.Outputs.Contains(binding.Value);
            var normalising = binding.Node.OpType == "BatchNormalization" && binding.InputIndex is 1 or 2;
            if (!producing && !normalising) continue;
            if (binding.Node.InputAt(binding.InputIndex) is not { } parameter) continue;
            var map = new int[member.ValueChannels];
            for (var c = 0; c < map.Length; c++) map[c] = member.GroupIndexOf(c);
            slices.Add(new FilterSlice(parameter, binding.Axis, map, producing && binding.InputIndex == 1));
        }
        return slices.ToArray();
    }

    private static double[] Norms(ITrainableNetwork network, FilterSlice[] slices, int width)
    {
        var sums = new double[width];
        foreach (var slice in slices.Where(s => s.CountsForNorm))
        {
            if (Find(network, slice) is not { } p) continue;
            Visit(p.Shape, slice, (index, g) => sums[g] += (double)p.Data[index] * p.Data[index]);
        }
        return sums.Select(Math.Sqrt).ToArray();
    }

    private static int[] Weakest(ITrainableNetwork network, FilterSlice[] slices, int width, int count)
    {
        var norms = Norms(network, slices, width);
        return Enumerable.Range(0, width).OrderBy(c => norms[c]).ThenByDescending(c => c).Take(count).ToArray();
    }

    private static void Scale(ITrainableNetwork network, FilterSlice[] slices, IReadOnlyCollection<int> channels, float factor)
    {
        var set = channels.ToHashSet();
        foreach (var slice in slices)
        {
            if (Find(network, slice) is not { } p) continue;
            Visit(p.Shape, slice, (index, g) =>
            {
                if (set.Contains(g)) p.Data[index] *= factor;
            });
            network.WriteParameter(slice.Parameter, p.Data);
        }
    }

    private static void Mask(ITrainableNetwork network, ChannelGroup group, HashSet<int> frozen)
    {
        var computed = network.ComputedValues.ToHashSet(StringComparer.Ordinal);
        foreach (var member in group.Members.Where(m => computed.Contains(m.Value)))
        {
            var keep = new bool[member.ValueChannels];
            for (var c = 0; c < keep.Length; c++)
            {
                var g = member.GroupIndexOf(c);
                keep[c] = g < 0 || !frozen.Contains(g);
            }
            network.SetChannelMask(member.Value, keep.All(k => k) ? null : keep);
        }
    }

    private static (int[] Shape, float[] Data)? Find(ITrainableNetwork network, FilterSlice slice) =>
        network.ParameterNames.Contains(slice.Parameter) ? network.ReadParameter(slice.Parameter) : null;

    /// <summary>Calls <paramref name="action"/>(flat index, group channel) for every element of the slice's parameter that carries a group channel.</summary>
    private static void Visit(int[] shape, FilterSlice slice, Action<int, int> action)
    {
        var inner = 1;
        for (var i = slice.Axis + 1; i < shape.Length; i++) inner *= shape[i];
        var size = shape[slice.Axis];
        if (size != slice.GroupIndex.Length) return;
        var total = shape.Aggregate(1, (a, b) => a * b);
        for (var index = 0; index < total; index++)
        {
            var g = slice.GroupIndex[index / inner % size];
            if (g >= 0) action(index, g);
        }
    }
}
