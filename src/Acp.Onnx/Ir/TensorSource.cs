using Acp.Onnx.Format;

namespace Acp.Onnx.Ir;

/// <summary>
/// Where tensors being read come from: the model's name for error messages, and the folder that external data
/// must stay inside.
/// </summary>
internal sealed class TensorSource
{
    private readonly string? _modelDirectory;

    public TensorSource(string? sourceName, string? modelDirectory)
    {
        SourceName = sourceName;
        _modelDirectory = modelDirectory is null ? null : RealPath(Path.GetFullPath(modelDirectory));
    }

    public string? SourceName { get; }

    public OnnxModelException Error(string problem, Exception? inner = null) => new(SourceName, problem, inner);

    /// <summary>
    /// Reads the bytes of a tensor stored outside the model file. The location must resolve, after following every
    /// symbolic link, to a file inside the model's folder; anything else would let a model read arbitrary files.
    /// </summary>
    public ReadOnlyMemory<byte> ReadExternal(TensorProto proto, string what, long? expectedBytes)
    {
        if (_modelDirectory is null)
        {
            throw Error($"{what} keeps its data in an external file; load the model from a file path so the file can be found.");
        }
        string? location = null;
        long offset = 0;
        long? length = null;
        foreach (var entry in proto.ExternalData)
        {
            switch (entry.Key)
            {
                case "location": location = entry.Value; break;
                case "offset": offset = ParseNonNegative(entry.Value, "offset", what); break;
                case "length": length = ParseNonNegative(entry.Value, "length", what); break;
            }
        }
        if (string.IsNullOrEmpty(location))
        {
            throw Error($"{what} is marked as external data but names no location.");
        }
        if (expectedBytes is not { } needed)
        {
            throw Error($"{what} stores variable-size elements externally, which is not supported.");
        }
        if (length is { } declared && declared != needed)
        {
            throw Error($"{what} declares {declared} bytes of external data but its shape needs {needed}.");
        }
        if (Path.IsPathRooted(location) || location.Split('/', '\\').Contains(".."))
        {
            throw Error($"{what} refers to external data at '{location}', outside the model's folder; only relative paths below it are allowed.");
        }
        var path = RealPath(Path.GetFullPath(Path.Combine(_modelDirectory, location)));
        var root = _modelDirectory.EndsWith(Path.DirectorySeparatorChar) ? _modelDirectory : _modelDirectory + Path.DirectorySeparatorChar;
        if (!path.StartsWith(root, StringComparison.Ordinal))
        {
            throw Error($"{what} refers to external data at '{location}', which resolves to '{path}' outside the model's folder.");
        }
        var file = new FileInfo(path);
        if (!file.Exists)
        {
            throw Error($"{what} refers to external data file '{location}', which does not exist.");
        }
        if (offset > file.Length || needed > file.Length - offset)
        {
            throw Error($"{what} needs {needed} bytes at offset {offset} of '{location}', but the file has {file.Length} bytes.");
        }
        var buffer = new byte[needed];
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        stream.Position = offset;
        stream.ReadExactly(buffer);
        return buffer;
    }

    private long ParseNonNegative(string text, string key, string what) =>
        long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value)
            ? value
            : throw Error($"{what} has an invalid external-data {key} '{text}'.");

    /// <summary>The path with every symbolic link along it followed, like POSIX realpath for the existing prefix.</summary>
    internal static string RealPath(string fullPath)
    {
        var root = Path.GetPathRoot(fullPath) ?? "/";
        var current = root;
        var parts = fullPath[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries);
        for (var i = 0; i < parts.Length; i++)
        {
            var next = Path.Combine(current, parts[i]);
            FileSystemInfo info = Directory.Exists(next) ? new DirectoryInfo(next) : new FileInfo(next);
            if (info.Exists && info.LinkTarget is not null)
            {
                // Resolve one hop and re-walk the target, so links inside the target are followed too.
                var target = info.ResolveLinkTarget(returnFinalTarget: true);
                next = target is null ? next : RealPath(Path.GetFullPath(target.FullName));
            }
            current = next;
        }
        return current;
    }
}
