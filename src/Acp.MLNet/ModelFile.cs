using Acp.Onnx.Ir;

namespace Acp.MLNet;

/// <summary>Model files in and out, with the errors a user of a catalog method should see.</summary>
internal static class ModelFile
{
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    public static OnnxModel Load(string path, string parameter)
    {
        ArgumentException.ThrowIfNullOrEmpty(path, parameter);
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw new FileNotFoundException(Directory.Exists(full) ? $"{full} is a folder; pass the .onnx file." : $"No ONNX model file at {full}.", full);
        }
        return OnnxModel.Load(full);
    }

    /// <summary>
    /// Writes serialized model bytes atomically through <see cref="OnnxModel.Save"/> (temporary file, then rename),
    /// refusing to replace an existing file unless <paramref name="overwrite"/> is set.
    /// </summary>
    /// <exception cref="IOException">The file exists and <paramref name="overwrite"/> is false, or the path is a folder.</exception>
    public static void Save(byte[] bytes, string path, bool overwrite)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (Directory.Exists(path)) throw new IOException($"'{path}' is a folder; pass a file name such as {Path.Combine(path, "model.onnx")}.");
        // Re-read from the bytes the session scores, so what is saved is what was measured, whatever happened to the IR since.
        OnnxModel.FromBytes(bytes).Save(path, overwrite);
    }
}
