using Acp.Onnx;
using static TorchSharp.torch;

namespace Acp.TorchSharp.Tests;

/// <summary>The backend's device is Acp's one <see cref="ComputeDevice"/>; TorchSharp only maps it.</summary>
public sealed class DeviceTests
{
    [Theory]
    [InlineData("cpu", ComputeDeviceKind.Cpu, 0, "cpu")]
    [InlineData(" CPU ", ComputeDeviceKind.Cpu, 0, "cpu")]
    [InlineData("cuda", ComputeDeviceKind.Cuda, 0, "cuda:0")]
    [InlineData("cuda:0", ComputeDeviceKind.Cuda, 0, "cuda:0")]
    [InlineData("Cuda:3", ComputeDeviceKind.Cuda, 3, "cuda:3")]
    public void Parses_cpu_and_cuda_devices(string text, ComputeDeviceKind kind, int index, string canonical)
    {
        var backend = TorchSharpBackend.Parse(text); // parsing loads nothing native
        Assert.Equal(kind, backend.ComputeDevice.Kind);
        Assert.Equal(index, backend.ComputeDevice.Index);
        Assert.Equal(canonical, backend.Device);
        Assert.Equal(ComputeDevice.Parse(text), backend.ComputeDevice);
        Assert.Equal(backend, TorchSharpBackend.Parse(backend.Device));
    }

    [Theory]
    [InlineData("")]
    [InlineData("gpu")]
    [InlineData("cuda:")]
    [InlineData("cuda:-1")]
    [InlineData("cuda:x")]
    [InlineData("cuda:1:2")]
    public void Rejects_anything_else_in_one_line(string text)
    {
        var error = Assert.Throws<FormatException>(() => TorchSharpBackend.Parse(text));
        Assert.Equal($"'{text}' is not a device; expected cpu, cuda or cuda:N (N = GPU index, 0 or more).", error.Message);
    }

    [Fact]
    public void Cuda_without_a_cuda_build_is_one_clear_error()
    {
        new TorchSharpBackend(ComputeDevice.Cpu).EnsureAvailable();
        var model = Acp.Onnx.Ir.OnnxModel.Load(Acp.Onnx.Tests.Support.Fixtures.PathOf("tiny_cnn.onnx"));
        if (cuda.is_available())
        {
            // Not run here (no GPU, no CUDA build of LibTorch): on a CUDA machine the same call must move everything.
            using var onGpu = OnnxModule.Import(model, ComputeDevice.Cuda());
            Assert.All(onGpu.ParameterNames, name => Assert.Equal(global::TorchSharp.DeviceType.CUDA, onGpu.Parameter(name).device_type));
            return;
        }
        var error = Assert.Throws<TorchBackendException>(() => TorchSharpBackend.Parse("cuda:1").EnsureAvailable());
        Assert.StartsWith("Device 'cuda:1' was requested but CUDA is not available", error.Message);
        Assert.DoesNotContain('\n', error.Message);
        Assert.Throws<TorchBackendException>(() => OnnxModule.Import(model, ComputeDevice.Cuda()));
        Assert.Throws<TorchBackendException>(() => new TorchSharpBackend(ComputeDevice.Cuda()).Build(model, 0));
    }

    [Fact]
    public void The_cpu_device_holds_every_parameter_statistic_and_output()
    {
        var model = Acp.Onnx.Ir.OnnxModel.Load(ForwardTests.ShippedModelPath);
        using var module = OnnxModule.Import(model, ComputeDevice.Parse("cpu"));
        Assert.Equal(ComputeDevice.Cpu, module.Device);
        Assert.All(module.ParameterNames, name => Assert.Equal(global::TorchSharp.DeviceType.CPU, module.Parameter(name).device_type));
        Assert.All(module.RunningStatistics.Values, t => Assert.Equal(global::TorchSharp.DeviceType.CPU, t.device_type));
        Assert.Equal(module.ParameterNames.Count, module.parameters().Count());
    }
}
