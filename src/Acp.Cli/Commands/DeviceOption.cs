using System.CommandLine;
using Acp.Onnx;

namespace Acp.Cli.Commands;

/// <summary><c>--device cpu|cuda[:N]</c>: where a command's work runs (its compute backend and ONNX Runtime alike).</summary>
internal static class DeviceOption
{
    public static Option<ComputeDevice> Create(string what) => new("--device")
    {
        Description = $"Where {what} runs: cpu (default), cuda or cuda:N.",
        DefaultValueFactory = _ => ComputeDevice.Cpu,
        CustomParser = result =>
        {
            var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
            if (ComputeDevice.TryParse(text, out var device)) return device;
            result.AddError($"--device: '{text}' is not a device; expected cpu, cuda or cuda:N (N = GPU index, 0 or more).");
            return ComputeDevice.Cpu;
        },
    };
}
