using Acp.Onnx.Runtime;

namespace Acp.Onnx.Tests.Runtime;

public class OrtNativeTests
{
    [Fact]
    public void Version_is_the_library_fetched_by_setup()
    {
        Assert.Equal("1.30.0", OnnxRuntime.Version);
        Assert.False(string.IsNullOrEmpty(OnnxRuntime.LibraryPath));
    }

    [Theory]
    [InlineData(OrtErrorCode.Fail, "plain")]
    [InlineData(OrtErrorCode.InvalidArgument, "bad argument 42")]
    [InlineData(OrtErrorCode.InvalidGraph, "ünïcode survives the round trip")]
    [InlineData(OrtErrorCode.EpFail, "")]
    public void A_created_status_comes_back_as_an_exception_with_its_code_and_message(OrtErrorCode code, string message)
    {
        // Exercises slots 0 (CreateStatus), 1 (GetErrorCode), 2 (GetErrorMessage) and 93 (ReleaseStatus).
        var status = OrtNative.CreateStatus(code, message);
        Assert.NotEqual(IntPtr.Zero, status);

        var e = Assert.Throws<OrtException>(() => OrtStatus.ThrowIfFailed(status));

        Assert.Equal(code, e.Code);
        if (message.Length > 0)
        {
            Assert.Equal(message, e.Message);
        }
        else
        {
            Assert.Contains(code.ToString(), e.Message);
        }
    }

    [Fact]
    public void A_null_status_means_success()
    {
        OrtStatus.ThrowIfFailed(IntPtr.Zero);
    }

    [Fact]
    public void Session_options_survive_many_create_and_dispose_cycles()
    {
        for (var i = 0; i < 500; i++)
        {
            using var options = OrtNative.CreateSessionOptions();
            OrtNative.SetIntraOpNumThreads(options, 1 + (i % 3));
            OrtNative.SetInterOpNumThreads(options, 1);
            OrtNative.SetExecutionMode(options, i % 2 == 0);
            OrtNative.SetGraphOptimizationLevel(options, i % 2 == 0 ? 0 : 99);
            Assert.False(options.IsInvalid);
        }
    }

    [Fact]
    public void Every_config_builds_options()
    {
        foreach (var level in Enum.GetValues<GraphOptimizationLevel>())
        {
            using var options = new SessionConfig { OptimizationLevel = level, IntraOpThreads = 2, InterOpThreads = 2, ParallelExecution = true }.CreateOptions();
            Assert.False(options.IsInvalid);
        }
    }

    [Fact]
    public void Runtime_errors_from_option_setters_surface_as_OrtException()
    {
        // 7 is not one of ORT's GraphOptimizationLevel values; the message naming the setting also
        // confirms that slot 23 is SetSessionGraphOptimizationLevel.
        using var options = OrtNative.CreateSessionOptions();

        var e = Assert.Throws<OrtException>(() => OrtNative.SetGraphOptimizationLevel(options, 7));

        Assert.Equal(OrtErrorCode.InvalidArgument, e.Code);
        Assert.Contains("graph_optimization_level", e.Message);
    }
}
