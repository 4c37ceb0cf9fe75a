using Acp.Onnx.Runtime;
using static Acp.Onnx.Tests.Runtime.TinyOnnx;

namespace Acp.Onnx.Tests.Runtime;

public class LatencyMeterTests
{
    [Fact]
    public void A_model_with_a_symbolic_batch_is_timed_at_the_given_batch()
    {
        var ms = LatencyMeter.MedianMilliseconds(BatchedMatMul(), batch: 4, threads: 1, warmup: 1, runs: 3);

        Assert.True(ms > 0 && ms < 1000, $"{ms} ms");
    }

    [Fact]
    public void Bad_arguments_and_inputs_are_refused_with_the_reason()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => LatencyMeter.MedianMilliseconds(MatMul(), batch: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => LatencyMeter.MedianMilliseconds(MatMul(), threads: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => LatencyMeter.MedianMilliseconds(MatMul(), runs: 0));
        Assert.Contains("'A'", Assert.Throws<ArgumentException>(() => LatencyMeter.MedianMilliseconds(Int64Add())).Message);

        // 2^33 rows: more than an array holds, refused before any allocation (it used to overflow).
        var huge = Model([new("X", Float, [1L << 33, 3])], [new("Y", Float, [1L << 33, 2])], [new("MatMul", ["X", "W"], ["Y"])],
            [Initializer.Floats("W", [3, 2], 1, 2, 3, 4, 5, 6)]);
        Assert.Contains("more elements", Assert.Throws<ArgumentException>(() => LatencyMeter.MedianMilliseconds(huge)).Message);
    }

    [Fact]
    public void A_cuda_device_without_its_provider_is_refused()
    {
        if (OrtRuntime.HasCudaProvider) return;
        Assert.Throws<ComputeDeviceUnavailableException>(() => LatencyMeter.MedianMilliseconds(MatMul(), device: ComputeDevice.Cuda()));
    }
}
