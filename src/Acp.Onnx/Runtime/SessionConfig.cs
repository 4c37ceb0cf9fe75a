namespace Acp.Onnx.Runtime;

/// <summary>How much ONNX Runtime rewrites a graph before running it.</summary>
public enum GraphOptimizationLevel
{
    /// <summary>Run the graph as written.</summary>
    Disabled,
    /// <summary>Semantics-preserving rewrites such as constant folding and removing redundant nodes.</summary>
    Basic,
    /// <summary>Basic rewrites plus node fusions.</summary>
    Extended,
    /// <summary>Every rewrite the runtime has, including layout changes. The runtime's own default.</summary>
    All,
}

/// <summary>Settings for creating an <see cref="InferenceSession"/>. The defaults are the runtime's defaults.</summary>
public sealed record SessionConfig
{
    /// <summary>The settings used when none are given.</summary>
    public static SessionConfig Default { get; } = new();

    /// <summary>Threads used inside one operator, such as a large MatMul. Zero lets the runtime choose.</summary>
    public int IntraOpThreads { get; init; }

    /// <summary>
    /// Threads used to run independent operators at the same time. Zero lets the runtime choose. Only
    /// matters when <see cref="ParallelExecution"/> is on; sequential execution runs one operator at a time.
    /// </summary>
    public int InterOpThreads { get; init; }

    /// <summary>Whether independent branches of the graph may run at the same time. Off by default.</summary>
    public bool ParallelExecution { get; init; }

    /// <summary>How much the runtime rewrites the graph when the session is created.</summary>
    public GraphOptimizationLevel OptimizationLevel { get; init; } = GraphOptimizationLevel.All;

    /// <summary>Throws an <see cref="ArgumentOutOfRangeException"/> naming the first setting that is out of range.</summary>
    internal void Validate()
    {
        if (IntraOpThreads < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(IntraOpThreads), IntraOpThreads, $"IntraOpThreads must be 0 (runtime default) or positive, not {IntraOpThreads}.");
        }

        if (InterOpThreads < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(InterOpThreads), InterOpThreads, $"InterOpThreads must be 0 (runtime default) or positive, not {InterOpThreads}.");
        }

        if (!Enum.IsDefined(OptimizationLevel))
        {
            throw new ArgumentOutOfRangeException(nameof(OptimizationLevel), OptimizationLevel, $"{(int)OptimizationLevel} is not a GraphOptimizationLevel.");
        }
    }

    /// <summary>Creates runtime session options carrying these settings; the caller disposes them.</summary>
    internal OrtSessionOptionsHandle CreateOptions()
    {
        Validate();
        var options = OrtNative.CreateSessionOptions();
        try
        {
            OrtNative.SetIntraOpNumThreads(options, IntraOpThreads);
            OrtNative.SetInterOpNumThreads(options, InterOpThreads);
            OrtNative.SetExecutionMode(options, ParallelExecution);
            OrtNative.SetGraphOptimizationLevel(options, OptimizationLevel switch
            {
                // The C enum's numbers: ORT_DISABLE_ALL, ORT_ENABLE_BASIC, ORT_ENABLE_EXTENDED, ORT_ENABLE_ALL.
                GraphOptimizationLevel.Disabled => 0,
                GraphOptimizationLevel.Basic => 1,
                GraphOptimizationLevel.Extended => 2,
                _ => 99,
            });
            return options;
        }
        catch
        {
            options.Dispose();
            throw;
        }
    }
}
