namespace Acp.Cli;

/// <summary>The process exit codes of `acp`, documented in the README.</summary>
public static class ExitCodes
{
    /// <summary>The command did what was asked.</summary>
    public const int Success = 0;

    /// <summary>The command line itself is wrong (unknown option, missing argument).</summary>
    public const int Usage = 1;

    /// <summary>An input is unusable: a missing or invalid model or data file.</summary>
    public const int InvalidInput = 2;

    /// <summary>Something failed while working (ONNX Runtime error, I/O failure while writing).</summary>
    public const int Failure = 3;

    /// <summary>A bug in acp: an unexpected exception. Run again with --verbose and report the stack trace.</summary>
    public const int InternalError = 4;

    /// <summary>Cancelled by the user (Ctrl+C).</summary>
    public const int Cancelled = 130;
}
