// The TorchSharp side of the benchmark (--torchsharp): LibTorch on the CPU, driven through the compute-backend seam
// (ITrainableNetwork / INetworkTrainer) exactly as the pruning pipeline drives it, so its figures include what the seam
// costs (copying the batch into a tensor, the loss read back for the divergence check, the logits copied out).
using System.Runtime.InteropServices;
using Acp.Data;
using Acp.Engine.Backends;
using Acp.Engine.Tensors;
using Acp.Engine.Training;
using Acp.TorchSharp;
using Acp.TorchSharp.Native;
using TorchSharp;

/// <summary>One TorchSharp network with its trainer, on the benchmark's model, batches, labels and thread count.</summary>
internal sealed class TorchSharpSide : IDisposable
{
    private readonly ITrainableNetwork _network;
    private readonly INetworkTrainer _trainer;
    private readonly Batch _trainBatch;
    private readonly Tensor _input;

    public TorchSharpSide(BenchModel workload, Tensor trainInput, int[] labels, Tensor input, int threads)
    {
        var backend = new TorchSharpBackend();
        // Loads LibTorch through Acp's loader; only after it may the process call torch.* itself.
        backend.EnsureAvailable();
        torch.set_num_threads(threads);
        try
        {
            // As bench/pytorch_peer.py: eager CPU work uses intra-op threads only.
            torch.set_num_interop_threads(1);
        }
        catch (Exception e) when (e is ExternalException or InvalidOperationException)
        {
            // LibTorch refuses once inter-op work has started; the setting then stays at its default.
        }
        Threads = torch.get_num_threads();
        LoaderOutcome = LibTorchSharpLoader.Outcome;
        _network = backend.Build(workload.Model.Clone(), seed: 1);
        // The bench's engine side: SGD, momentum 0.9, weight decay 5e-4 on every parameter, plain cross-entropy.
        _trainer = _network.CreateTrainer(new NetworkTrainingOptions { Sgd = new SgdOptions { Momentum = 0.9f, WeightDecay = 5e-4f } });
        _trainBatch = new Batch(new ImageShape(workload.Channels, workload.Height, workload.Width), labels.Length, trainInput.Data, labels) { Count = labels.Length };
        _input = input;
    }

    /// <summary>LibTorch's intra-op thread count after the bench set it.</summary>
    public int Threads { get; }

    /// <summary>What Acp's loader did to load libLibTorchSharp in this process.</summary>
    public string? LoaderOutcome { get; }

    /// <summary>Forward in training mode, cross-entropy, backward and an SGD step, at the engine side's rate.</summary>
    public void TrainStep() => _trainer.Step(_trainBatch, 0.1f);

    /// <summary>An inference-mode forward of the inference batch.</summary>
    public void Inference() => _network.Forward(_input.Shape, _input.Data, training: false);

    public void Dispose()
    {
        _trainer.Dispose();
        _network.Dispose();
    }
}
