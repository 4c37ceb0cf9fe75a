using System.CommandLine;
using Acp.Engine.Backends;
using Acp.Onnx;
using Acp.TorchSharp;

namespace Acp.Cli.Commands;

/// <summary><c>--backend engine|torchsharp</c>: which compute backend runs the networks, on the <c>--device</c> given.</summary>
internal static class BackendOption
{
    public static Option<string> Create()
    {
        var option = new Option<string>("--backend") { Description = "Compute backend: engine (Acp's CPU engine, default) or torchsharp (LibTorch; with --device cuda on an NVIDIA GPU).", DefaultValueFactory = _ => "engine" };
        option.AcceptOnlyFromAmong("engine", "torchsharp");
        return option;
    }

    /// <summary>
    /// The backend on <paramref name="device"/>, checked at once: CUDA that this process cannot use fails here, in one
    /// line, before any data is read.
    /// </summary>
    /// <exception cref="ArgumentException">The engine with a device other than the CPU.</exception>
    /// <exception cref="InvalidOperationException">The device is not available in this process.</exception>
    public static IComputeBackend Resolve(string backend, ComputeDevice device)
    {
        if (backend == "engine")
        {
            if (device != ComputeDevice.Cpu)
            {
                throw new ArgumentException($"--device {device} needs --backend torchsharp: the engine runs on the CPU only.");
            }
            return EngineBackend.Instance;
        }
        var torch = new TorchSharpBackend(device);
        try
        {
            torch.EnsureAvailable();
        }
        catch (TorchBackendException e)
        {
            throw new InvalidOperationException(e.Message, e);
        }
        return torch;
    }
}
