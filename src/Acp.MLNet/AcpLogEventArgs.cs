using Acp.Pruning.Pipeline;

namespace Acp.MLNet;

/// <summary>How much a log message matters (ML.NET's <c>ChannelMessageKind</c>).</summary>
public enum AcpLogKind
{
    /// <summary>Fine-grained progress: one message per batch, evaluation or image block.</summary>
    Trace,

    /// <summary>A stage began or ended, a model was loaded or saved.</summary>
    Info,

    /// <summary>Something the user should look at, though the work went on.</summary>
    Warning,
}

/// <summary>One message of <see cref="AcpContext.Log"/> (ML.NET's <c>LoggingEventArgs</c>).</summary>
public sealed class AcpLogEventArgs : EventArgs
{
    /// <summary>A message from <paramref name="source"/>.</summary>
    public AcpLogEventArgs(AcpLogKind kind, string source, string message, PruningProgress? progress = null)
    {
        Kind = kind;
        Source = source;
        Message = message;
        Progress = progress;
    }

    /// <summary>How much it matters.</summary>
    public AcpLogKind Kind { get; }

    /// <summary>The component that wrote it, e.g. <c>PruneChannels</c>.</summary>
    public string Source { get; }

    /// <summary>The message, for people.</summary>
    public string Message { get; }

    /// <summary>The pruning progress report the message was made from, when it was made from one.</summary>
    public PruningProgress? Progress { get; }

    /// <inheritdoc/>
    public override string ToString() => $"[{Source}] {Message}";
}
