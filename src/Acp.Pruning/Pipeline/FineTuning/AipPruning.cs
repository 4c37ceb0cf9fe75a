using System.Diagnostics;
using Acp.Engine.Backends;
using Acp.Engine.Training;
using Acp.Onnx.Analysis;
using Acp.Onnx.Channels;
using Acp.Onnx.Ir;

namespace Acp.Pruning.Pipeline;

/// <summary>
/// AIP (research notes §11.1): adversarial iterative pruning with knowledge transfer. The original network is the
/// teacher. Channels are cut in steps towards the structure of the search (the budget's uniform widths): every step
/// removes <see cref="AipOptions.StepFraction"/> more of each group, choosing the least important channels of the
/// current, recovered weights (<see cref="AipOptions.Importance"/>), re-fits BatchNormalization and recovers for
/// <see cref="AipOptions.RecoverySteps"/> steps of training on cross-entropy, logit distillation, attention transfer on
/// the stage outputs and the adversarial term of a discriminator of both networks' logits. The last step reaches the
/// budget's structure exactly; <see cref="PruningOptions.Epochs"/> of fine-tuning with the same losses follow.
/// </summary>
/// <remarks>
/// The paper's abstract gives the ingredients, not the losses' form, weights or schedule; everything beyond it is a
/// reconstruction (docs/aip.md). Every step is scored on the validation split twice, after its cut and after its
/// recovery, and logged (<see cref="CandidateStage.AipCut"/>, <see cref="CandidateStage.AipRecovered"/>); a step's
/// recovered model is checkpointed, so a run killed in step k resumes at the start of step k and reaches the bytes of
/// an uninterrupted run. Each recovery trains a fresh discriminator (seeded by the run's seed and the step).
/// </remarks>
internal sealed class AipPruning : IFineTuning
{
    /// <summary>The whole original network, and the accuracy of the plain cut of the final structure (L1 channels) for comparison with the other strategies.</summary>
    public StartingPoint Build(PruningRun run, StructureChoice structure)
    {
        var builder = run.Builder(ChannelRanking.L1(run.Analysis, run.Groups));
        var (cut, _) = builder.Prune(structure.Widths);
        double before;
        using (var candidate = builder.Recalibrated(cut, run.Cancellation)) before = run.ValidationAccuracy(candidate);
        var full = run.Model.Clone();
        return new StartingPoint(new Candidate(full, run.Options.Backend.Build(full, run.Options.Seed)), before);
    }

    /// <summary>The iterative cuts and recoveries, then the final fine-tune.</summary>
    public FineTuned Train(PruningRun run, StructureChoice structure, StartingPoint start)
    {
        var options = run.Options;
        var schedule = Schedule(run.Groups, structure.Widths, structure.Ratio ?? 0, options.Aip.StepFraction, options.RoundTo);
        var stages = StageOutputs(run.Model, run.Analysis.Shapes);
        var builder = run.Builder(ChannelRanking.L1(run.Analysis, run.Groups));
        var model = start.Candidate.ToModel();
        var keep = run.Groups.ToDictionary(g => g.Id, g => Enumerable.Range(0, g.Width).ToArray());
        var first = 0;
        if (run.Store?.LoadIterationCheckpoint() is { } checkpoint)
        {
            if (checkpoint.Step >= schedule.Count || !checkpoint.Keep.Keys.Order().SequenceEqual(keep.Keys.Order()))
            {
                throw new IOException("The AIP step checkpoint does not belong to this run's schedule.");
            }
            model = checkpoint.Model!;
            keep = checkpoint.Keep;
            first = checkpoint.Step + 1;
        }
        var iterations = new List<CandidateEvaluation>();
        if (run.Store is { } store)
        {
            iterations.AddRange(store.Logged.Where(e => e.Stage is CandidateStage.AipCut or CandidateStage.AipRecovered && e.Index < first));
        }

        for (var step = first; step < schedule.Count; step++)
        {
            var clock = Stopwatch.StartNew();
            var (next, kept) = Cut(run, model, keep, schedule[step]);
            keep = kept;
            var widths = run.Groups.Select(g => keep[g.Id].Length).ToArray();
            using var network = builder.Recalibrated(next, run.Cancellation);
            iterations.Add(Scored(run, CandidateStage.AipCut, step, widths, network, clock));
            Recover(run, network, stages, step, schedule.Count);
            iterations.Add(Scored(run, CandidateStage.AipRecovered, step, widths, network, clock));
            network.WriteWeightsTo(next);
            // Logged first, checkpointed second: a kill in between redoes the step, whose evaluations are then found in the log.
            run.Store?.SaveIterationCheckpoint(new IterationCheckpoint(step, keep, next));
            model = next;
        }

        // The final fine-tune starts from the last step's graph as a checkpoint would give it back.
        var candidate = new Candidate(model, options.Backend.Build(model, options.Seed));
        var (trained, losses) = new FineTuner(options, run.Data.Training, run.Original, o => Transfer(run, o, stages, schedule.Count))
            .Run(candidate, options.Epochs, run.Store, null, run.Progress, run.Cancellation);
        return new FineTuned(trained.ToModel(), keep, losses) { Iterations = iterations };
    }

    /// <summary>
    /// The structures of the steps: each removes <paramref name="stepFraction"/> more of every group (rounded as the
    /// baselines round), never widening and never going below <paramref name="final"/>; the last is
    /// <paramref name="final"/> itself. Steps that would not change any width are dropped.
    /// </summary>
    internal static List<int[]> Schedule(IReadOnlyList<ChannelGroup> groups, int[] final, double ratio, double stepFraction, int roundTo)
    {
        var steps = new List<int[]>();
        var previous = groups.Select(g => g.Width).ToArray();
        for (var k = 1; ; k++)
        {
            var r = k * stepFraction;
            var last = r >= ratio - 1e-9;
            var widths = last ? final
                : Budget.UniformWidths(groups, r, roundTo).Select((w, d) => Math.Clamp(w, final[d], previous[d])).ToArray();
            if (!widths.SequenceEqual(previous)) steps.Add(widths);
            previous = widths;
            if (last) return steps;
        }
    }

    /// <summary>
    /// The stage outputs attention is transferred on: for each spatial size (in order of first appearance), the last
    /// four-dimensional value of that size the graph computes, leaving out graph outputs and 1×1 maps.
    /// </summary>
    internal static IReadOnlyList<string> StageOutputs(OnnxModel model, ShapeInferenceResult shapes)
    {
        var order = model.Graph.BuildIndex().TopologicalOrder ?? throw new InvalidOperationException("The graph has a cycle.");
        var outputs = model.Graph.Outputs.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        var sizes = new List<(long H, long W)>();
        var last = new Dictionary<(long, long), string>();
        foreach (var node in order)
        {
            if (node.OpType == "Constant") continue;
            foreach (var output in node.Outputs)
            {
                if (output.Length == 0 || outputs.Contains(output) || shapes.ShapeOf(output) is not { Length: 4 } shape || shape[2] * shape[3] <= 1) continue;
                var size = (shape[2], shape[3]);
                if (!last.ContainsKey(size)) sizes.Add(size);
                last[size] = output;
            }
        }
        return sizes.Select(s => last[s]).ToArray();
    }

    /// <summary>
    /// One cut: the current model's groups (matched to the original's by their first producer's output) keep their
    /// most important channels up to <paramref name="widths"/>; returns the pruned model (weights inherited) and the
    /// original channels every group now keeps.
    /// </summary>
    private static (OnnxModel Model, Dictionary<int, int[]> Keep) Cut(PruningRun run, OnnxModel model, Dictionary<int, int[]> keep, int[] widths)
    {
        var analysis = ChannelAnalysis.Run(model);
        var byProducer = analysis.PrunableGroups.Where(g => g.Producers.Count > 0)
            .ToDictionary(g => g.Producers[0].Output, StringComparer.Ordinal);
        var current = run.Groups.Select(g => byProducer.TryGetValue(g.Producers[0].Output, out var match) ? match
            : throw new InvalidOperationException($"Group {PruningPipeline.GroupName(g)} has no counterpart in the model of the previous AIP step.")).ToArray();
        var orders = new Dictionary<int, IReadOnlyList<int>>();
        foreach (var group in current)
        {
            var importance = Importance(analysis, group, run.Options.Aip.Importance);
            orders[group.Id] = Enumerable.Range(0, group.Width).OrderByDescending(c => importance[c]).ThenBy(c => c).ToArray();
        }
        var kept = ChannelRanking.FromOrders(analysis, current, orders).KeepSets(widths);
        var next = ChannelSurgery.Apply(analysis, kept).Model;
        var original = new Dictionary<int, int[]>();
        for (var d = 0; d < run.Groups.Count; d++)
        {
            var previous = keep[run.Groups[d].Id];
            original[run.Groups[d].Id] = kept[current[d].Id].Select(c => previous[c]).ToArray();
        }
        return (next, original);
    }

    /// <summary>Per channel of <paramref name="group"/>, its importance by <paramref name="criterion"/> (larger = kept first).</summary>
    internal static double[] Importance(ChannelAnalysis analysis, ChannelGroup group, AipImportance criterion) =>
        criterion == AipImportance.BnScale ? BnScales(analysis, group) : FilterNorms.L1(analysis, group);

    /// <summary>|γ| summed over the BatchNormalization scales of the group's channels; the producers' L1 norms when the group has none.</summary>
    private static double[] BnScales(ChannelAnalysis analysis, ChannelGroup group)
    {
        var scales = new double[group.Width];
        var found = false;
        foreach (var binding in analysis.Bindings)
        {
            if (binding.Node.OpType != "BatchNormalization" || binding.InputIndex != 1 || group.MemberOf(binding.Value) is not { } member) continue;
            var gamma = analysis.BoundConstant(binding).Floats;
            for (var c = 0; c < Math.Min(gamma.Length, member.ValueChannels); c++)
            {
                var index = member.GroupIndexOf(c);
                if (index < 0) continue;
                scales[index] += Math.Abs(gamma[c]);
                found = true;
            }
        }
        return found ? scales : FilterNorms.L1(analysis, group);
    }

    /// <summary>
    /// Recovery: <see cref="AipOptions.RecoverySteps"/> knowledge-transfer steps, a cosine schedule from
    /// <see cref="PruningOptions.LearningRate"/> to 0. The steps of all recoveries walk the training batches in order,
    /// as epochs would.
    /// </summary>
    private static void Recover(PruningRun run, ITrainableNetwork network, IReadOnlyList<string> stages, int step, int steps)
    {
        var options = run.Options;
        var total = options.Aip.RecoverySteps;
        if (total == 0) return;
        var loader = run.Data.Training;
        using var trainer = network.CreateTrainer(Transfer(run, new NetworkTrainingOptions
        {
            Sgd = new SgdOptions { Momentum = 0.9f, Nesterov = true, WeightDecay = options.WeightDecay },
        }, stages, step));
        var schedule = new CosineSchedule(options.LearningRate);
        var position = (long)step * total;
        var epoch = (int)(position / loader.BatchCount);
        var skip = (int)(position % loader.BatchCount);
        var done = 0;
        var buffer = loader.CreateBatch();
        while (done < total)
        {
            foreach (var batch in loader.GetBatches(epoch, buffer))
            {
                if (skip > 0)
                {
                    skip--;
                    continue;
                }
                run.Cancellation.ThrowIfCancellationRequested();
                var result = trainer.Step(batch, schedule.At(done, total));
                done++;
                run.Progress?.Report(new PruningProgress(PruningStage.Searching, (long)step * total + done, (long)steps * total,
                    $"aip step {step + 1}/{steps}: recovering, loss {result.Loss:0.0000}", Cycle: step));
                if (done == total) break;
            }
            epoch++;
        }
    }

    /// <summary>AIP's losses added to <paramref name="training"/>: distillation from the original, attention transfer, the adversarial term.</summary>
    private static NetworkTrainingOptions Transfer(PruningRun run, NetworkTrainingOptions training, IReadOnlyList<string> stages, int step)
    {
        var (options, aip) = (run.Options, run.Options.Aip);
        return training with
        {
            Distillation = new NetworkDistillation(run.Original, options.DistillationTemperature, options.DistillationWeight),
            AttentionTransfer = aip.AttentionWeight > 0 && stages.Count > 0 ? new AttentionTransferOptions(stages, aip.AttentionWeight) : null,
            Adversarial = aip.AdversarialWeight > 0
                ? new AdversarialOptions(aip.AdversarialWeight, aip.DiscriminatorWidth, aip.DiscriminatorLearningRate, unchecked(options.Seed * 7919 + step))
                : null,
        };
    }

    /// <summary>The step's structure scored on the validation split and logged, or its logged score when a resumed run redoes the step.</summary>
    private static CandidateEvaluation Scored(PruningRun run, CandidateStage stage, int step, int[] widths, ITrainableNetwork network, Stopwatch clock)
    {
        if (run.Store?.Find(widths, stage) is { } logged) return logged;
        var (correct, images) = CandidateBuilder.Score(network, run.Data.Validation, run.Cancellation);
        var cost = run.Budget.Cost(widths);
        var evaluation = new CandidateEvaluation(step, widths, cost.Macs, cost.Params, correct, images, clock.Elapsed.TotalSeconds) { Stage = stage };
        run.Store?.Append(evaluation);
        return evaluation;
    }
}
