namespace Acp.Data;

/// <summary>
/// How <see cref="BatchLoader"/> turns a data set into batches. The defaults suit evaluation (fixed order, no
/// augmentation, every image); training typically sets <see cref="Shuffle"/>, augmentation and maybe
/// <see cref="DropLast"/>.
/// </summary>
public sealed record BatchLoaderOptions
{
    /// <summary>Images per batch.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>
    /// The most input values a batch that only runs forward (scoring, calibration) should hold: 256 images of 3×32×32.
    /// </summary>
    public const long MaxForwardBatchValues = 256L * 3 * 32 * 32;

    /// <summary>
    /// Images per forward-only batch of <paramref name="shape"/>: <paramref name="preferred"/>, or fewer so that the
    /// batch holds at most <see cref="MaxForwardBatchValues"/> input values. Images up to 32 px keep a batch of 256; a
    /// 224-px RGB image has 49 times as many values, so its batches hold 5 images and the activations a network keeps
    /// for them stay the size of a small-image batch's instead of growing with the image (gigabytes at 224 px).
    /// </summary>
    public static int ForwardBatchSize(ImageShape shape, int preferred)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(preferred, 1);
        return (int)Math.Clamp(MaxForwardBatchValues / Math.Max(1, shape.PixelCount), 1, preferred);
    }

    /// <summary>Visit the images in a new seeded order every epoch; otherwise in data set order.</summary>
    public bool Shuffle { get; init; }

    /// <summary>
    /// Leave out the last, smaller batch of an epoch. Training uses this so every step sees a full batch (a tiny last
    /// batch gives noisy batch-norm statistics); evaluation must not, or images go uncounted.
    /// </summary>
    public bool DropLast { get; init; }

    /// <summary>Seed of the shuffling and augmentation: the same seed and epoch give identical batches.</summary>
    public int Seed { get; init; }

    /// <summary>Per-channel normalisation after scaling to [0, 1]; null scales to [0, 1] only.</summary>
    public ChannelNormalization? Normalization { get; init; }

    /// <summary>
    /// Random-crop padding p: each image is padded by p black pixels on every side and a random H×W window is cut
    /// out of it (torchvision's <c>RandomCrop(size, padding=p)</c>). 0 disables it. The padding is black (pixel 0),
    /// which after normalisation is −mean/std, as in torchvision where padding happens before normalisation.
    /// </summary>
    public int CropPadding { get; init; }

    /// <summary>Mirror each image left–right with probability ½ (after the crop, as torchvision recipes order them).</summary>
    public bool HorizontalFlip { get; init; }

    /// <summary>
    /// For data sets that decode a file on every read (<see cref="IImageDataset.DecodesOnRead"/>, image folders): how
    /// many batches are decoded ahead of the caller, each in parallel over its images, while the caller works on the
    /// current one. Memory: this many batch buffers besides the caller's, whatever the data set's size. 0 decodes on
    /// the caller's thread, one image after another. Data sets held in memory are always read on the caller's thread.
    /// The batches are the same either way. One is enough to keep the caller from waiting when decoding a batch takes
    /// less time than using it; each more costs a batch of floats (at 224×224×3 and 256 images, 154 MB).
    /// </summary>
    public int PrefetchBatches { get; init; } = 1;

    /// <summary>Whether any augmentation is on.</summary>
    public bool Augments => CropPadding > 0 || HorizontalFlip;
}
