namespace Acp.Onnx.Runtime;

/// <summary>Facts about the loaded ONNX Runtime library.</summary>
public static class OnnxRuntime
{
    /// <summary>
    /// The version the native library reports, such as "1.30.0". Reading it loads the library, and
    /// throws an <see cref="OrtException"/> saying where it looked when the library cannot be found.
    /// </summary>
    public static string Version => OrtNative.Version;

    /// <summary>The file or name the native library was loaded from.</summary>
    public static string LibraryPath => OrtNative.LibraryPath;
}
