namespace Acp.Data;

/// <summary>Which of a published data set's two parts to read.</summary>
public enum DatasetSplit
{
    /// <summary>The training part (IDX <c>train-*</c>, CIFAR-10 <c>data_batch_1..5.bin</c>, CIFAR-100 <c>train.bin</c>, image folder <c>train/</c>).</summary>
    Train,

    /// <summary>The test part (IDX <c>t10k-*</c>, CIFAR-10 <c>test_batch.bin</c>, CIFAR-100 <c>test.bin</c>, image folder <c>test/</c> or <c>val/</c>).</summary>
    Test,
}

/// <summary>The on-disk layouts <see cref="DatasetFolder"/> recognises.</summary>
public enum DatasetFormat
{
    /// <summary>IDX files as MNIST and Fashion-MNIST publish them, gzip-compressed or not.</summary>
    Idx,

    /// <summary>The CIFAR-10 binary version: 10000-image batches of 1 label byte + 3072 pixel bytes.</summary>
    Cifar10,

    /// <summary>The CIFAR-100 binary version: coarse label byte + fine label byte + 3072 pixel bytes per image.</summary>
    Cifar100,

    /// <summary>PNG and JPEG files in one folder per class, under <c>train</c> and <c>test</c> (or <c>val</c>): see <see cref="ImageFolderDataset"/>.</summary>
    ImageFolder,
}
