namespace Acp.Onnx.Tests;

public class ComputeDeviceTests
{
    [Theory]
    [InlineData("cpu", ComputeDeviceKind.Cpu, 0, "cpu")]
    [InlineData("CPU", ComputeDeviceKind.Cpu, 0, "cpu")]
    [InlineData("cuda", ComputeDeviceKind.Cuda, 0, "cuda:0")]
    [InlineData("cuda:0", ComputeDeviceKind.Cuda, 0, "cuda:0")]
    [InlineData("Cuda:1", ComputeDeviceKind.Cuda, 1, "cuda:1")]
    [InlineData(" cuda:12 ", ComputeDeviceKind.Cuda, 12, "cuda:12")]
    public void Parse_reads_the_kind_and_index_and_ToString_reads_back_to_an_equal_device(string text, ComputeDeviceKind kind, int index, string canonical)
    {
        var device = ComputeDevice.Parse(text);

        Assert.Equal(kind, device.Kind);
        Assert.Equal(index, device.Index);
        Assert.Equal(canonical, device.ToString());
        Assert.Equal(device, ComputeDevice.Parse(device.ToString()));
    }

    [Theory]
    [InlineData("")]
    [InlineData("gpu")]
    [InlineData("cuda:")]
    [InlineData("cuda:-1")]
    [InlineData("cuda:+1")]
    [InlineData("cuda:x")]
    [InlineData("cuda:1:2")]
    [InlineData("cuda: 1")]
    [InlineData("cuda:99999999999")]
    [InlineData("cpu:0")]
    [InlineData("cudax")]
    public void Anything_else_is_refused_with_one_line_that_names_the_text_and_the_accepted_forms(string text)
    {
        var e = Assert.Throws<FormatException>(() => ComputeDevice.Parse(text));

        Assert.DoesNotContain('\n', e.Message);
        Assert.Contains($"'{text}'", e.Message);
        Assert.Contains("cpu, cuda or cuda:N", e.Message);
        Assert.False(ComputeDevice.TryParse(text, out _));
    }

    [Fact]
    public void The_default_device_is_the_cpu_and_devices_compare_by_kind_and_index()
    {
        Assert.Equal(ComputeDevice.Cpu, default);
        Assert.Equal(ComputeDevice.Cuda(2), ComputeDevice.Parse("cuda:2"));
        Assert.NotEqual(ComputeDevice.Cuda(0), ComputeDevice.Cpu);
        Assert.NotEqual(ComputeDevice.Cuda(0), ComputeDevice.Cuda(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => ComputeDevice.Cuda(-1));
        Assert.False(ComputeDevice.TryParse(null, out _));
    }
}
