using Acp.Onnx;
using Acp.TorchSharp.Native;
using TorchSharp;

namespace Acp.TorchSharp;

/// <summary>The one place where Acp's <see cref="ComputeDevice"/> becomes a TorchSharp device.</summary>
internal static class TorchDevices
{
    /// <summary>
    /// The TorchSharp device <paramref name="device"/> names, after checking that this process can use it (loads
    /// LibTorch first: every entry point of the project comes through here or the loader).
    /// </summary>
    /// <exception cref="TorchBackendException">CUDA was asked for but is not available, or the index is out of range.</exception>
    public static torch.Device Resolve(ComputeDevice device)
    {
        LibTorchSharpLoader.EnsureLoaded();
        if (device.Kind == ComputeDeviceKind.Cpu) return torch.CPU;
        if (!torch.cuda.is_available())
        {
            throw new TorchBackendException($"Device '{device}' was requested but CUDA is not available: this process has the CPU build of LibTorch or no NVIDIA driver (see docs/torchsharp.md).");
        }
        var count = torch.cuda.device_count();
        if (device.Index >= count) throw new TorchBackendException($"Device '{device}' was requested but this machine has {count} CUDA device(s).");
        return torch.device(DeviceType.CUDA, device.Index);
    }
}
