namespace Acp.Onnx.Runtime;

/// <summary>
/// The single place where an <c>OrtStatus*</c> returned by the C API is inspected. Every
/// status-returning entry of the API table is called through <see cref="ThrowIfFailed"/>.
/// </summary>
internal static class OrtStatus
{
    /// <summary>
    /// Does nothing for a null status (success). Otherwise reads the code and message, releases the
    /// status, which the caller owns, and throws them as an <see cref="OrtException"/>.
    /// </summary>
    internal static void ThrowIfFailed(IntPtr status)
    {
        if (status == IntPtr.Zero)
        {
            return;
        }

        OrtErrorCode code;
        string message;
        try
        {
            code = OrtNative.GetErrorCode(status);
            message = OrtNative.GetErrorMessage(status);
        }
        finally
        {
            OrtNative.ReleaseStatus(status);
        }

        throw new OrtException(code, message.Length == 0 ? $"ONNX Runtime failed with {code} and no message." : message);
    }
}
