using Microsoft.ML.OnnxRuntime;

namespace Acp.Onnx.Runtime;

/// <summary>Facts about the ONNX Runtime in this process, and the one environment every session shares.</summary>
public static class OrtRuntime
{
    /// <summary>The ONNX Runtime package version Acp is built against (its native library must match).</summary>
    public const string PackageVersion = "1.32.0";

    private const string CudaProvider = "CUDAExecutionProvider";
    private static readonly object Gate = new();

    /// <summary>The version the native library reports, such as "1.32.0".</summary>
    public static string Version => EnsureEnvironment(OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL).GetVersionString();

    /// <summary>The execution providers the native library was built with, such as CPUExecutionProvider.</summary>
    public static IReadOnlyList<string> AvailableProviders => EnsureEnvironment(OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL).GetAvailableProviders();

    /// <summary>Whether the native library has the CUDA execution provider (the Microsoft.ML.OnnxRuntime.Gpu packages).</summary>
    public static bool HasCudaProvider => AvailableProviders.Contains(CudaProvider, StringComparer.Ordinal);

    /// <summary>
    /// The process's environment. When Acp creates it (nothing else did first), its own log starts at
    /// <paramref name="logLevel"/>, so that messages not tied to a session (such as a refused model's graph errors) do not
    /// reach standard error either; an environment created by someone else keeps its level.
    /// </summary>
    internal static OrtEnv EnsureEnvironment(OrtLoggingLevel logLevel)
    {
        lock (Gate)
        {
            if (OrtEnv.IsCreated) return OrtEnv.Instance();
            var options = new EnvironmentCreationOptions { logId = "acp", logLevel = logLevel };
            return OrtEnv.CreateInstanceWithOptions(ref options);
        }
    }
}
