namespace Acp.Onnx.Runtime;

/// <summary>
/// Error codes that ONNX Runtime attaches to a failure. The numbers are those of the C API's
/// <c>OrtErrorCode</c>, so a code added by a newer runtime still arrives as its number.
/// </summary>
public enum OrtErrorCode
{
    /// <summary>No error.</summary>
    Ok = 0,
    /// <summary>A failure with no more specific code.</summary>
    Fail = 1,
    /// <summary>An argument was not acceptable to the runtime.</summary>
    InvalidArgument = 2,
    /// <summary>A file was not found. Also used when the native library itself could not be loaded.</summary>
    NoSuchFile = 3,
    /// <summary>No model was loaded.</summary>
    NoModel = 4,
    /// <summary>The engine failed internally.</summary>
    EngineError = 5,
    /// <summary>An operator or the runtime threw while running.</summary>
    RuntimeException = 6,
    /// <summary>The model bytes are not a readable protobuf message.</summary>
    InvalidProtobuf = 7,
    /// <summary>A model was already loaded.</summary>
    ModelLoaded = 8,
    /// <summary>The requested feature is not implemented in this build.</summary>
    NotImplemented = 9,
    /// <summary>The model's graph is not valid.</summary>
    InvalidGraph = 10,
    /// <summary>An execution provider failed.</summary>
    EpFail = 11,
    /// <summary>Loading the model was canceled.</summary>
    ModelLoadCanceled = 12,
    /// <summary>The model needs compiling by an execution provider, and compiling was turned off.</summary>
    ModelRequiresCompilation = 13,
    /// <summary>A requested resource was not found.</summary>
    NotFound = 14,
    /// <summary>The execution provider's device was reset.</summary>
    DeviceReset = 15,
}

/// <summary>
/// Thrown when ONNX Runtime reports a failure, or when its native library cannot be loaded.
/// The message is the runtime's own text; <see cref="Code"/> is the runtime's error code.
/// </summary>
public sealed class OrtException : Exception
{
    /// <summary>Creates the exception for a failure the runtime reported with <paramref name="code"/>.</summary>
    public OrtException(OrtErrorCode code, string message)
        : base(message)
    {
        Code = code;
    }

    /// <summary>Creates the exception for a failure with <paramref name="code"/> caused by <paramref name="inner"/>.</summary>
    public OrtException(OrtErrorCode code, string message, Exception? inner)
        : base(message, inner)
    {
        Code = code;
    }

    /// <summary>The runtime's error code for the failure.</summary>
    public OrtErrorCode Code { get; }
}
