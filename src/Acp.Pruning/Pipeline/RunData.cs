using Acp.Data;

namespace Acp.Pruning.Pipeline;

/// <summary>
/// The views of the training split a run reads, and nothing else: a held-out validation part (scores candidates and
/// reports accuracy, never trained on) and the rest (calibration, BatchNormalization statistics, fine-tuning).
/// </summary>
internal sealed record RunData(
    BatchLoader Training, BatchLoader Calibration, BatchLoader Recalibration, BatchLoader Fitness, BatchLoader Validation,
    BatchLoader FitnessTuning, BatchLoader FinalistTuning, string Identity)
{
    private const int CalibrationBatch = 100;

    public static RunData Split(IImageDataset training, PruningOptions options)
    {
        var held = options.ValidationImages ?? PruningOptions.DefaultValidationImages;
        if (held >= training.Count)
        {
            throw new ArgumentException($"The training split has {training.Count} images; holding out {held} for validation leaves none to train on.", nameof(training));
        }
        DatasetSubset train, validation;
        if (options.ValidationFromTail)
        {
            var cut = training.Count - held;
            train = training.Subset(Enumerable.Range(0, cut));
            validation = training.Subset(Enumerable.Range(cut, held));
        }
        else
        {
            (train, validation) = training.TrainValidationSplit(held, options.Seed);
        }
        var normalization = options.Normalization;
        BatchLoader Plain(IImageDataset d, int batch) => new(d, new BatchLoaderOptions { BatchSize = batch, Normalization = normalization });
        // Candidates are scored at the recalibration's batch size, so a candidate's network is planned for one input
        // shape (plus the last, partial batch) instead of three: the engine's inference logits are the same bits at
        // any batch size (NetworkMemoryTests), and every network's buffers grow with the batch (issue 19).
        var evaluationBatch = options.BatchSize;

        var calibration = train.Shuffle(options.Seed).Take(Math.Min(options.CalibrationImages, train.Count));
        var recalibration = train.Shuffle(unchecked(options.Seed + 1)).Take(Math.Min(options.RecalibrationImages, train.Count));
        // The same few batches, in the same order, for every candidate: no shuffling, no augmentation.
        var tuning = train.Shuffle(unchecked(options.Seed + 2)).Take((int)Math.Min((long)options.FitnessSteps * options.FitnessTuningBatchSize, train.Count));
        var finalistTuning = train.Shuffle(unchecked(options.Seed + 3)).Take((int)Math.Min((long)options.FinalistSteps * options.FitnessTuningBatchSize, train.Count));
        var fitness = options.FitnessImages is { } f ? validation.Take(Math.Min(f, validation.Count)) : (IImageDataset)validation;
        var fineTuning = new BatchLoader(train, new BatchLoaderOptions
        {
            BatchSize = options.BatchSize,
            Shuffle = true,
            // A last batch of a few images would give BatchNormalization useless statistics.
            DropLast = train.Count > options.BatchSize,
            Seed = options.Seed,
            Normalization = normalization,
            CropPadding = options.Augmentation.CropPadding,
            HorizontalFlip = options.Augmentation.HorizontalFlip,
        });
        var identity = $"{training.Count} training images of {training.ImageShape}, {training.ClassCount} classes";
        // Forward-only batches shrink with large images (5 at 224 px); up to 32 px they are as given.
        int Forward(int preferred) => BatchLoaderOptions.ForwardBatchSize(training.ImageShape, preferred);
        return new RunData(fineTuning, Plain(calibration, Forward(CalibrationBatch)), Plain(recalibration, options.BatchSize),
            Plain(fitness, Forward(evaluationBatch)), Plain(validation, Forward(evaluationBatch)),
            Tuning(tuning), Tuning(finalistTuning), identity);

        BatchLoader Tuning(IImageDataset d) =>
            new(d, new BatchLoaderOptions { BatchSize = options.FitnessTuningBatchSize, DropLast = d.Count > options.FitnessTuningBatchSize, Normalization = normalization });
    }
}
