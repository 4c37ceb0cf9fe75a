using Microsoft.ML.OnnxRuntime;

namespace Acp.Onnx.Runtime;

/// <summary>
/// How Acp opens ONNX Runtime sessions: the device (mapped to an execution provider), threads, graph optimization and
/// how much of the runtime's own log reaches standard error. The defaults are the runtime's, except the log: Acp reports
/// failures through exceptions, so the native log is silenced up to fatal messages and an error stays one line.
/// </summary>
public sealed record OrtSessionSettings
{
    /// <summary>The settings used when none are given: the CPU, the runtime's thread and optimization defaults.</summary>
    public static OrtSessionSettings Default { get; } = new();

    /// <summary>Where the model runs. <c>cuda:N</c> needs ONNX Runtime's CUDA execution provider (see <see cref="FallbackToCpu"/>).</summary>
    public ComputeDevice Device { get; init; } = ComputeDevice.Cpu;

    /// <summary>
    /// With a CUDA <see cref="Device"/>: run on the CPU when the CUDA provider is missing or cannot start, instead of
    /// throwing <see cref="ComputeDeviceUnavailableException"/>. Off by default, so a GPU request never silently becomes
    /// a CPU run.
    /// </summary>
    public bool FallbackToCpu { get; init; }

    /// <summary>Threads used inside one operator, such as a large convolution. Zero lets the runtime choose.</summary>
    public int IntraOpThreads { get; init; }

    /// <summary>Threads that run independent operators at once (parallel execution only). Zero lets the runtime choose.</summary>
    public int InterOpThreads { get; init; }

    /// <summary>Whether independent branches of the graph may run at the same time. Off by default.</summary>
    public bool ParallelExecution { get; init; }

    /// <summary>How much the runtime rewrites the graph when the session is created. The runtime's default is all rewrites.</summary>
    public GraphOptimizationLevel OptimizationLevel { get; init; } = GraphOptimizationLevel.ORT_ENABLE_ALL;

    /// <summary>The least severe native log message the session writes to standard error (default: fatal only).</summary>
    public OrtLoggingLevel LogLevel { get; init; } = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL;

    /// <summary>
    /// Session options carrying these settings, with the device's execution provider appended; the caller disposes them.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A thread count is negative or the optimization level is not defined.</exception>
    /// <exception cref="ComputeDeviceUnavailableException">The device's provider is missing or cannot start, without <see cref="FallbackToCpu"/>.</exception>
    public SessionOptions CreateSessionOptions()
    {
        Validate();
        OrtRuntime.EnsureEnvironment(LogLevel);
        var options = new SessionOptions
        {
            IntraOpNumThreads = IntraOpThreads,
            InterOpNumThreads = InterOpThreads,
            ExecutionMode = ParallelExecution ? ExecutionMode.ORT_PARALLEL : ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = OptimizationLevel,
            LogSeverityLevel = LogLevel,
            LogId = "acp",
        };
        try
        {
            if (Device.Kind == ComputeDeviceKind.Cuda) AppendCuda(options);
            return options;
        }
        catch
        {
            options.Dispose();
            throw;
        }
    }

    /// <summary>A session on the serialized model <paramref name="model"/>.</summary>
    /// <exception cref="OnnxRuntimeException">The runtime refuses the model; the message is the runtime's.</exception>
    /// <exception cref="ComputeDeviceUnavailableException">See <see cref="CreateSessionOptions"/>.</exception>
    public InferenceSession CreateSession(byte[] model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.Length == 0) throw new ArgumentException("The model bytes are empty.", nameof(model));
        using var options = CreateSessionOptions();
        return new InferenceSession(model, options);
    }

    /// <summary>A session on the model file at <paramref name="modelPath"/>.</summary>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="OnnxRuntimeException">The runtime refuses the model; the message is the runtime's.</exception>
    /// <exception cref="ComputeDeviceUnavailableException">See <see cref="CreateSessionOptions"/>.</exception>
    public InferenceSession CreateSession(string modelPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        var fullPath = Path.GetFullPath(modelPath);
        if (!File.Exists(fullPath)) throw new FileNotFoundException($"No ONNX model file at {fullPath}.", fullPath);
        using var options = CreateSessionOptions();
        return new InferenceSession(fullPath, options);
    }

    private void AppendCuda(SessionOptions options)
    {
        if (!OrtRuntime.HasCudaProvider)
        {
            if (FallbackToCpu) return;
            throw new ComputeDeviceUnavailableException(Device,
                $"{Device} needs ONNX Runtime's CUDA execution provider, which this process lacks (it has {string.Join(", ", OrtRuntime.AvailableProviders)}): " +
                $"reference Microsoft.ML.OnnxRuntime.Gpu.Linux {OrtRuntime.PackageVersion} instead of Microsoft.ML.OnnxRuntime and install CUDA 13 and cuDNN, or use cpu.");
        }
        try
        {
            options.AppendExecutionProvider_CUDA(Device.Index);
        }
        catch (OnnxRuntimeException e) when (!FallbackToCpu)
        {
            throw new ComputeDeviceUnavailableException(Device,
                $"ONNX Runtime's CUDA execution provider could not start on {Device} ({OneLine(e.Message)}); check the GPU index, the driver, CUDA 13 and cuDNN, or use cpu.", e);
        }
        catch (OnnxRuntimeException)
        {
            // FallbackToCpu: the options have no provider appended, so the session runs on the CPU.
        }
    }

    private void Validate()
    {
        if (IntraOpThreads < 0) throw new ArgumentOutOfRangeException(nameof(IntraOpThreads), IntraOpThreads, $"IntraOpThreads must be 0 (runtime default) or positive, not {IntraOpThreads}.");
        if (InterOpThreads < 0) throw new ArgumentOutOfRangeException(nameof(InterOpThreads), InterOpThreads, $"InterOpThreads must be 0 (runtime default) or positive, not {InterOpThreads}.");
        if (!Enum.IsDefined(OptimizationLevel)) throw new ArgumentOutOfRangeException(nameof(OptimizationLevel), OptimizationLevel, $"{(int)OptimizationLevel} is not a GraphOptimizationLevel.");
        if (!Enum.IsDefined(LogLevel)) throw new ArgumentOutOfRangeException(nameof(LogLevel), LogLevel, $"{(int)LogLevel} is not an OrtLoggingLevel.");
    }

    private static string OneLine(string text) => string.Join(" ", text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
