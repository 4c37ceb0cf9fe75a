using Acp.Onnx.Runtime;
using Acp.Onnx.Tests.Support;
using Microsoft.ML.OnnxRuntime;

namespace Acp.Onnx.Tests.Runtime;

/// <summary>Acp's session settings over the ONNX Runtime package: threads, optimization, the device, the native log.</summary>
public class OrtSessionSettingsTests
{
    /// <summary>Z = X · W + B by hand for X = [1, 2, 3] (see <see cref="TinyOnnx.MatMulAdd"/>).</summary>
    private static readonly float[] ExpectedZ = [1 * 1 + 2 * 3 + 3 * 5 - 100, 1 * 2 + 2 * 4 + 3 * 6 + 0.5f];

    [Theory]
    [InlineData(GraphOptimizationLevel.ORT_DISABLE_ALL, 0, 0, false)]
    [InlineData(GraphOptimizationLevel.ORT_ENABLE_BASIC, 1, 1, false)]
    [InlineData(GraphOptimizationLevel.ORT_ENABLE_EXTENDED, 2, 2, true)]
    [InlineData(GraphOptimizationLevel.ORT_ENABLE_ALL, 0, 2, true)]
    public void Every_setting_gives_the_hand_computed_answer(GraphOptimizationLevel level, int intra, int inter, bool parallel)
    {
        var settings = new OrtSessionSettings { OptimizationLevel = level, IntraOpThreads = intra, InterOpThreads = inter, ParallelExecution = parallel };
        using var session = settings.CreateSession(TinyOnnx.MatMulAdd());

        var z = session.RunFloat(("X", [1, 2, 3], [1, 3])).Named("Z");

        Assert.Equal(ExpectedZ, z.Data);
        Assert.Equal([1L, 2], z.Shape);
    }

    [Fact]
    public void Out_of_range_settings_are_rejected_before_the_runtime_sees_them()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new OrtSessionSettings { IntraOpThreads = -1 }.CreateSessionOptions());
        Assert.Throws<ArgumentOutOfRangeException>(() => new OrtSessionSettings { InterOpThreads = -2 }.CreateSessionOptions());
        Assert.Throws<ArgumentOutOfRangeException>(() => new OrtSessionSettings { OptimizationLevel = (GraphOptimizationLevel)42 }.CreateSessionOptions());
        Assert.Throws<ArgumentException>(() => OrtSessionSettings.Default.CreateSession(Array.Empty<byte>()));
        var missing = Path.Combine(Path.GetTempPath(), $"acp-missing-{Guid.NewGuid():N}.onnx");
        Assert.Contains(missing, Assert.Throws<FileNotFoundException>(() => OrtSessionSettings.Default.CreateSession(missing)).Message);
    }

    [Fact]
    public void A_model_the_runtime_refuses_gives_its_exception_with_the_runtime_message()
    {
        var e = Assert.Throws<OnnxRuntimeException>(() => OrtSessionSettings.Default.CreateSession(TinyOnnx.MismatchedMatMul()));

        Assert.Contains("MatMul", e.Message);
    }

    [Fact]
    public void The_native_library_is_the_package_version_and_acp_created_its_environment_quiet()
    {
        using var session = OrtSessionSettings.Default.CreateSession(TinyOnnx.MatMul());

        Assert.Equal(OrtRuntime.PackageVersion, OrtRuntime.Version);
        Assert.Contains("CPUExecutionProvider", OrtRuntime.AvailableProviders);
        // Every session in this process goes through OrtSessionSettings, so the environment is Acp's, at fatal level.
        Assert.Equal(OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL, OrtEnv.Instance().EnvLogLevel);
    }

    [Fact]
    public void Cuda_without_the_cuda_provider_is_one_line_that_says_what_to_reference()
    {
        // The tests reference the CPU package, whose library has no CUDA provider; with the GPU package this test says nothing.
        if (OrtRuntime.HasCudaProvider) return;
        var settings = new OrtSessionSettings { Device = ComputeDevice.Cuda(1) };

        var e = Assert.Throws<ComputeDeviceUnavailableException>(() => settings.CreateSession(TinyOnnx.MatMul()));

        Assert.Equal(ComputeDevice.Cuda(1), e.Device);
        Assert.DoesNotContain('\n', e.Message);
        Assert.StartsWith("cuda:1 needs ONNX Runtime's CUDA execution provider", e.Message);
        Assert.Contains("Microsoft.ML.OnnxRuntime.Gpu.Linux 1.32.0 instead of Microsoft.ML.OnnxRuntime", e.Message);
        Assert.Contains("CUDA 13", e.Message);
        Assert.Contains("cuDNN", e.Message);
        Assert.Contains("CPUExecutionProvider", e.Message);
    }

    [Fact]
    public void Cuda_with_FallbackToCpu_runs_on_the_cpu_when_the_provider_is_missing()
    {
        if (OrtRuntime.HasCudaProvider) return;
        var settings = new OrtSessionSettings { Device = ComputeDevice.Cuda(0), FallbackToCpu = true };

        using var session = settings.CreateSession(TinyOnnx.MatMulAdd());

        Assert.Equal(ExpectedZ, session.RunFloat(("X", [1, 2, 3], [1, 3])).Named("Z").Data);
    }
}
