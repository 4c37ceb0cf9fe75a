using static TorchSharp.torch;

namespace Acp.TorchSharp.Tests;

public sealed class TorchDeviceTests
{
    [Theory]
    [InlineData("cpu", false, 0, "cpu")]
    [InlineData(" CPU ", false, 0, "cpu")]
    [InlineData("cuda", true, 0, "cuda:0")]
    [InlineData("cuda:0", true, 0, "cuda:0")]
    [InlineData("Cuda:3", true, 3, "cuda:3")]
    public void Parses_cpu_and_cuda_devices(string text, bool isCuda, int index, string canonical)
    {
        var device = TorchDevice.Parse(text);
        Assert.Equal(isCuda, device.IsCuda);
        Assert.Equal(index, device.Index);
        Assert.Equal(canonical, device.ToString());
        Assert.Equal(device, TorchDevice.Parse(device.ToString()));
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
        var error = Assert.Throws<FormatException>(() => TorchDevice.Parse(text));
        Assert.Equal($"Unknown device '{text}': expected cpu, cuda or cuda:N.", error.Message);
    }

    [Fact]
    public void Cuda_without_a_cuda_build_is_one_clear_error()
    {
        TorchDevice.Cpu.Resolve();
        var model = Acp.Onnx.Ir.OnnxModel.Load(Acp.Onnx.Tests.Support.Fixtures.PathOf("tiny_cnn.onnx"));
        if (cuda.is_available())
        {
            // Not run here (no GPU, no CUDA build of LibTorch): on a CUDA machine the same call must move everything.
            using var onGpu = OnnxModule.Import(model, TorchDevice.Cuda());
            Assert.All(onGpu.ParameterNames, name => Assert.Equal(global::TorchSharp.DeviceType.CUDA, onGpu.Parameter(name).device_type));
            return;
        }
        var error = Assert.Throws<TorchBackendException>(() => TorchDevice.Parse("cuda:1").Resolve());
        Assert.StartsWith("Device 'cuda:1' was requested but CUDA is not available", error.Message);
        Assert.DoesNotContain('\n', error.Message);
        Assert.Throws<TorchBackendException>(() => OnnxModule.Import(model, TorchDevice.Cuda()));
    }

    [Fact]
    public void The_cpu_device_holds_every_parameter_statistic_and_output()
    {
        var model = Acp.Onnx.Ir.OnnxModel.Load(ForwardTests.ShippedModelPath);
        using var module = OnnxModule.Import(model, TorchDevice.Parse("cpu"));
        Assert.Equal(TorchDevice.Cpu, module.Device);
        Assert.All(module.ParameterNames, name => Assert.Equal(global::TorchSharp.DeviceType.CPU, module.Parameter(name).device_type));
        Assert.All(module.RunningStatistics.Values, t => Assert.Equal(global::TorchSharp.DeviceType.CPU, t.device_type));
        Assert.Equal(module.ParameterNames.Count, module.parameters().Count());
    }
}
