using System.CommandLine;
using Acp.Onnx;

namespace Acp.Cli.Commands;

/// <summary><c>--device cpu|cuda[:N]</c>: where ONNX Runtime runs a command's measurements.</summary>
internal static class DeviceOption
{
    public static Option<ComputeDevice> Create(string what) => new("--device")
    {
        Description = $"Where ONNX Runtime runs {what}: cpu, cuda or cuda:N (CUDA needs the GPU build of ONNX Runtime).",
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
