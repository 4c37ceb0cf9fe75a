namespace Acp.Onnx.Runtime;

/// <summary>
/// Process-wide runtime state shared by every session: one <c>OrtEnv</c> (the runtime allows one per
/// process) logging at warning level, and one CPU memory description for input tensors. Both live until
/// the process ends, since sessions may be released in any order. A failed creation (for instance a
/// missing library) is not remembered, so a later call can succeed.
/// </summary>
internal static class OrtEnvironment
{
    private const int LoggingLevelWarning = 2; // ORT_LOGGING_LEVEL_WARNING

    private static readonly object Gate = new();
    private static OrtEnvHandle? env;
    private static OrtMemoryInfoHandle? cpuMemory;

    /// <summary>The shared environment.</summary>
    internal static OrtEnvHandle Env
    {
        get
        {
            var current = Volatile.Read(ref env);
            if (current is not null)
            {
                return current;
            }

            lock (Gate)
            {
                var created = env ?? OrtNative.CreateEnv(LoggingLevelWarning, "acp");
                Volatile.Write(ref env, created);
                return created;
            }
        }
    }

    /// <summary>The shared description of ordinary CPU memory.</summary>
    internal static OrtMemoryInfoHandle CpuMemory
    {
        get
        {
            var current = Volatile.Read(ref cpuMemory);
            if (current is not null)
            {
                return current;
            }

            lock (Gate)
            {
                var created = cpuMemory ?? OrtNative.CreateCpuMemoryInfo();
                Volatile.Write(ref cpuMemory, created);
                return created;
            }
        }
    }
}
