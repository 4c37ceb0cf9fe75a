namespace Acp.Onnx;

/// <summary>
/// Reads a file a user named without trusting it to be an ordinary file: <c>/dev/zero</c> or <c>/dev/urandom</c>
/// report a size of 0 and never end, a pipe cannot be sized at all. At most the file's reported size is read.
/// </summary>
public static class RegularFile
{
    /// <summary>The whole file, when it is a regular file of at most <paramref name="maxBytes"/> bytes.</summary>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="IOException">It is not a regular file, is larger than <paramref name="maxBytes"/>, changed size while being read, or cannot be read.</exception>
    /// <exception cref="UnauthorizedAccessException">It is a folder or may not be read.</exception>
    public static byte[] ReadAllBytes(string path, long maxBytes)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0);
        if (!stream.CanSeek) throw new IOException("it is not a regular file (a pipe or socket); give a file.");
        var length = stream.Length;
        if (length > maxBytes) throw new IOException($"it is {length} bytes, more than the {maxBytes} allowed.");
        var bytes = new byte[length];
        var read = stream.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
        if (read < bytes.Length) throw new IOException($"it shrank while being read ({read} of {length} bytes).");
        // A device such as /dev/zero claims 0 bytes and keeps yielding: a regular file ends at its size.
        Span<byte> probe = stackalloc byte[1];
        if (stream.Read(probe) > 0) throw new IOException("it is not a regular file: it yields more bytes than its size (a device?); give a file.");
        return bytes;
    }
}
