using System.Diagnostics;
using Acp.Engine.Backends;
using Acp.Engine.Tensors;
using Acp.Engine.Training;
using Acp.Onnx.Channels;
using Acp.Pruning.Clustering;

namespace Acp.Pruning.Pipeline;

/// <summary>
/// What a run's repeated work costs on this machine, measured once on a sample of the run's own data: seconds per image
/// of inference on the original and on a pruned network, of a BatchNormalization re-fit and of a training step, and
/// seconds per candidate built. Every stage's time estimate is a count of images (or candidates) times these.
/// </summary>
/// <remarks>
/// The pruned network is the budget's uniform structure (L1 channels): every candidate, finalist and the fine-tuned
/// network are near that cost. Each timed operation runs twice on batches of the sizes the run uses (one evaluation
/// batch, one fine-tuning batch): the second run gives the steady rate, and what the first cost more (planning,
/// allocating a fresh network's buffers) is kept apart, because every candidate is a fresh network and pays it again.
/// A training step of the original network is not run (it would need a third network in memory): it is the pruned
/// step scaled by the MAC ratio.
/// </remarks>
/// <param name="OriginalInference">Seconds per image of inference on the original network.</param>
/// <param name="PrunedInference">Seconds per image of inference on the pruned network.</param>
/// <param name="PrunedRefit">Seconds per image of a BatchNormalization re-fit (training-mode forward) of the pruned network.</param>
/// <param name="PrunedTrainStep">Seconds per image of an SGD step of the pruned network (without the teacher).</param>
/// <param name="OriginalTrainStep">Seconds per image of an SGD step of the original network (scaled, see remarks).</param>
/// <param name="Build">Seconds to cut a candidate and build its network.</param>
/// <param name="CosineUnit">Seconds per channel pair and feature of the cosine distances clustering computes.</param>
/// <param name="SampleImages">Images in the timed batches (evaluation batch + fine-tuning batch).</param>
/// <param name="FreshNetwork">Seconds a fresh pruned network's first inference batch, re-fit and training step cost beyond the steady rate.</param>
internal sealed record WorkRates(double OriginalInference, double PrunedInference, double PrunedRefit, double PrunedTrainStep,
    double OriginalTrainStep, double Build, double CosineUnit, int SampleImages, double FreshNetwork)
{
    /// <summary>Times the sample on <paramref name="run"/>'s networks and data; nothing of the run is changed.</summary>
    public static WorkRates Measure(PruningRun run)
    {
        var (options, data, cancellation) = (run.Options, run.Data, run.Cancellation);
        var evaluation = data.Validation.GetBatches(0).First();
        var originalInference = TimeTwice(() => run.Original.Forward(evaluation.Shape, evaluation.ImageSpan, training: false)).Second / evaluation.Count;
        cancellation.ThrowIfCancellationRequested();

        var (_, uniform) = run.Budget.Uniform(options.RoundTo);
        var clock = Stopwatch.StartNew();
        var keep = ChannelRanking.L1(run.Analysis, run.Groups).KeepSets(uniform);
        var pruned = ChannelSurgery.Apply(run.Analysis, keep).Model;
        using var network = options.Backend.Build(pruned, options.Seed);
        var build = clock.Elapsed.TotalSeconds;
        var inference = TimeTwice(() => network.Forward(evaluation.Shape, evaluation.ImageSpan, training: false));
        cancellation.ThrowIfCancellationRequested();

        var training = data.Training.GetBatches(0).First();
        Tensor[] images = [new Tensor(training.Shape, training.ImageSpan.ToArray())];
        var refit = TimeTwice(() => network.RefitBatchNorm(images, cancellation));
        cancellation.ThrowIfCancellationRequested();
        using var trainer = network.CreateTrainer(new NetworkTrainingOptions
        {
            Sgd = new SgdOptions { Momentum = 0.9f, Nesterov = true, WeightDecay = options.WeightDecay },
        });
        var step = TimeTwice(() => trainer.Step(training, options.LearningRate));

        var full = run.Groups.Select(g => g.Width).ToArray();
        var macRatio = (double)Math.Max(1, run.Budget.Cost(full).Macs) / Math.Max(1, run.Budget.Cost(uniform).Macs);
        var trainStep = step.Second / training.Count;
        var fresh = new[] { inference, refit, step }.Sum(t => Math.Max(0, t.First - t.Second));
        return new WorkRates(originalInference, inference.Second / evaluation.Count, refit.Second / training.Count, trainStep,
            trainStep * macRatio, build, MeasureCosineUnit(), evaluation.Count + training.Count, fresh);
    }

    /// <summary>Seconds of training steps of the pruned network on <paramref name="images"/> images, with the teacher's forward when distilling.</summary>
    public double PrunedTraining(long images, bool distilled) => images * (PrunedTrainStep + (distilled ? OriginalInference : 0));

    /// <summary>
    /// Seconds of a candidate scored after a re-fit: build a fresh network, re-fit on the recalibration images, inference
    /// on <paramref name="scored"/> images.
    /// </summary>
    public double Candidate(RunData data, long scored) => Build + FreshNetwork + data.Recalibration.ImagesPerEpoch * PrunedRefit + scored * PrunedInference;

    /// <summary>Runs <paramref name="work"/> twice and returns the seconds of each run.</summary>
    private static (double First, double Second) TimeTwice(Action work)
    {
        var clock = Stopwatch.StartNew();
        work();
        var first = clock.Elapsed.TotalSeconds;
        clock.Restart();
        work();
        return (first, clock.Elapsed.TotalSeconds);
    }

    /// <summary>Seconds per channel pair and feature of <see cref="CosineDistance.Compute"/>, timed on 64 rows of 2,048 features.</summary>
    private static double MeasureCosineUnit()
    {
        const int channels = 64, features = 2048;
        var rows = new float[channels * features];
        for (var i = 0; i < rows.Length; i++) rows[i] = (i * 0.6180339887f) % 1f;
        return TimeTwice(() => CosineDistance.Compute(rows, channels, features)).Second / ((double)channels * channels * features);
    }
}
