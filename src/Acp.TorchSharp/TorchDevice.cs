using System.Globalization;
using Acp.TorchSharp.Native;
using TorchSharp;

namespace Acp.TorchSharp;

/// <summary>
/// Where the TorchSharp backend computes: <c>cpu</c>, <c>cuda</c> (device 0) or <c>cuda:N</c>. Parsing needs no native
/// library; <see cref="Resolve"/> checks the device exists in this process.
/// </summary>
public sealed record TorchDevice
{
    private TorchDevice(bool isCuda, int index)
    {
        IsCuda = isCuda;
        Index = index;
    }

    /// <summary>The CPU.</summary>
    public static TorchDevice Cpu { get; } = new(false, 0);

    /// <summary>True for a CUDA device.</summary>
    public bool IsCuda { get; }

    /// <summary>The CUDA device's ordinal (0 for the CPU).</summary>
    public int Index { get; }

    /// <summary>CUDA device <paramref name="index"/>.</summary>
    public static TorchDevice Cuda(int index = 0) =>
        index >= 0 ? new TorchDevice(true, index) : throw new ArgumentOutOfRangeException(nameof(index), index, "A CUDA device index is 0 or more.");

    /// <summary>Parses <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c> (case-insensitive, surrounding spaces ignored).</summary>
    /// <exception cref="FormatException">Anything else, with a one-line message naming the accepted forms.</exception>
    public static TorchDevice Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var value = text.Trim().ToLowerInvariant();
        if (value == "cpu") return Cpu;
        if (value == "cuda") return Cuda(0);
        if (value.StartsWith("cuda:", StringComparison.Ordinal)
            && int.TryParse(value.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out var index))
        {
            return Cuda(index);
        }
        throw new FormatException($"Unknown device '{text}': expected cpu, cuda or cuda:N.");
    }

    /// <summary>
    /// The TorchSharp device, after checking that it is usable in this process.
    /// </summary>
    /// <exception cref="TorchBackendException">CUDA was asked for but is not available, or the index is out of range.</exception>
    public torch.Device Resolve()
    {
        LibTorchSharpLoader.EnsureLoaded();
        if (!IsCuda) return torch.CPU;
        if (!torch.cuda.is_available())
        {
            throw new TorchBackendException($"Device '{this}' was requested but CUDA is not available: this process has the CPU build of LibTorch or no NVIDIA driver (see docs/torchsharp.md).");
        }
        var count = torch.cuda.device_count();
        if (Index >= count) throw new TorchBackendException($"Device '{this}' was requested but this machine has {count} CUDA device(s).");
        return torch.device(DeviceType.CUDA, Index);
    }

    /// <inheritdoc />
    public override string ToString() => IsCuda ? $"cuda:{Index}" : "cpu";
}
