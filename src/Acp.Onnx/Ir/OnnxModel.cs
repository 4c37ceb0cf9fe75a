using Acp.Onnx.Format;
using Google.Protobuf;

namespace Acp.Onnx.Ir;

/// <summary>
/// An ONNX model in Acp's graph IR. Load it with <see cref="Load(string)"/>, change it, and write it back with
/// <see cref="Save"/>. Everything the IR does not model (unknown fields, training info, functions, doc strings)
/// is carried through unchanged.
/// </summary>
public sealed class OnnxModel
{
    /// <summary>Models larger than this cannot be a single protobuf message; ONNX keeps their weights in external files.</summary>
    public const long MaxProtobufBytes = int.MaxValue;

    /// <summary>Creates an empty model with the given graph.</summary>
    public OnnxModel(Graph graph) => Graph = graph;

    /// <summary>The ONNX IR version the model was written for.</summary>
    public long IrVersion { get; set; } = 8;

    /// <summary>The tool that wrote the model.</summary>
    public string ProducerName { get; set; } = "";

    /// <summary>That tool's version.</summary>
    public string ProducerVersion { get; set; } = "";

    /// <summary>The model's domain (reverse-DNS name).</summary>
    public string Domain { get; set; } = "";

    /// <summary>The model's own version number.</summary>
    public long ModelVersion { get; set; }

    /// <summary>Free-text documentation.</summary>
    public string DocString { get; set; } = "";

    /// <summary>The operator sets the graph uses.</summary>
    public List<OpsetImport> OpsetImports { get; } = [];

    /// <summary>Metadata key/value pairs, in written order.</summary>
    public List<KeyValuePair<string, string>> Metadata { get; } = [];

    /// <summary>The main graph.</summary>
    public Graph Graph { get; set; }

    /// <summary>The version of the standard ONNX operator set, or 0 when not imported.</summary>
    public long OpsetVersion => OpsetImports.Where(o => o.Domain is "" or "ai.onnx").Select(o => o.Version).DefaultIfEmpty(0).Max();

    internal ModelProto? Source { get; init; }

    /// <summary>Loads and validates a model from a file. External tensor data must lie in the model's folder.</summary>
    /// <exception cref="OnnxModelException">The file is missing, is not ONNX, or the model is invalid.</exception>
    public static OnnxModel Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] bytes;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists) throw new OnnxModelException(path, "file not found.");
            if (info.Length > MaxProtobufBytes) throw new OnnxModelException(path, $"file is {info.Length} bytes, larger than a protobuf message can be (2 GiB); ONNX models this large keep weights as external data.");
            bytes = RegularFile.ReadAllBytes(path, MaxProtobufBytes);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OnnxModelException(path, $"cannot read the file: {e.Message}", e);
        }
        return Parse(bytes, path, Path.GetDirectoryName(Path.GetFullPath(path)));
    }

    /// <summary>Loads a model from a stream. External data cannot be resolved without a folder and is refused.</summary>
    /// <param name="stream">The model bytes; read to the end, not closed.</param>
    /// <param name="sourceName">A name for error messages.</param>
    public static OnnxModel Load(Stream stream, string sourceName = "<stream>")
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = stream.Read(chunk)) > 0)
        {
            if (buffer.Length + read > MaxProtobufBytes) throw new OnnxModelException(sourceName, "stream is larger than a protobuf message can be (2 GiB).");
            buffer.Write(chunk, 0, read);
        }
        return Parse(buffer.ToArray(), sourceName, null);
    }

    /// <summary>Loads a model from its serialized bytes.</summary>
    public static OnnxModel FromBytes(ReadOnlySpan<byte> bytes, string sourceName = "<bytes>") => Parse(bytes.ToArray(), sourceName, null);

    /// <summary>The model serialized as ONNX protobuf bytes.</summary>
    public byte[] ToBytes() => ToProto().ToByteArray();

    /// <summary>
    /// Writes the model to <paramref name="path"/> atomically: to a temporary file in the same folder, then renamed
    /// over the target, so a failure never leaves a half-written model behind.
    /// </summary>
    /// <param name="path">Where to write.</param>
    /// <param name="overwrite">Replace an existing file. Off by default so that a slip never destroys the input model.</param>
    /// <exception cref="IOException">The file exists and <paramref name="overwrite"/> is false.</exception>
    public void Save(string path, bool overwrite = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = Path.GetFullPath(path);
        if (!overwrite && File.Exists(full))
        {
            throw new IOException($"'{path}' exists; pass overwrite: true to replace it.");
        }
        var bytes = ToBytes();
        var directory = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(directory);
        var temp = Path.Combine(directory, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>A copy whose graph can be changed without touching this model.</summary>
    public OnnxModel Clone()
    {
        var copy = new OnnxModel(Graph.Clone())
        {
            IrVersion = IrVersion, ProducerName = ProducerName, ProducerVersion = ProducerVersion, Domain = Domain,
            ModelVersion = ModelVersion, DocString = DocString, Source = Source,
        };
        copy.OpsetImports.AddRange(OpsetImports);
        copy.Metadata.AddRange(Metadata);
        return copy;
    }

    /// <summary>
    /// Checks the graph's structure: every input defined, every value produced once, no cycle.
    /// </summary>
    /// <exception cref="OnnxModelException">The first problems found, all in one message.</exception>
    public void Validate(string? sourceName = null)
    {
        var problems = Graph.BuildIndex().Problems;
        if (problems.Count > 0)
        {
            var shown = string.Join(" ", problems.Take(3));
            throw new OnnxModelException(sourceName, problems.Count > 3 ? $"{shown} (and {problems.Count - 3} more problems)" : shown);
        }
    }

    private static OnnxModel Parse(byte[] bytes, string sourceName, string? directory)
    {
        if (bytes.Length == 0)
        {
            throw new OnnxModelException(sourceName, "the file is empty; an ONNX model is a protobuf ModelProto.");
        }
        ModelProto proto;
        try
        {
            proto = ModelProto.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new OnnxModelException(sourceName, $"not an ONNX model or truncated: the protobuf cannot be decoded ({e.Message})", e);
        }
        catch (Exception e) when (e is IndexOutOfRangeException or ArgumentOutOfRangeException or OverflowException)
        {
            // Google.Protobuf's limit arithmetic overflows for a nested length prefix near 2^31 and then indexes past
            // its buffer instead of reporting the truncation; the input is just as broken.
            throw new OnnxModelException(sourceName, "not an ONNX model or truncated: the protobuf cannot be decoded (a length prefix points far past the end of the file).", e);
        }
        if (proto.Graph is null)
        {
            throw new OnnxModelException(sourceName, "not an ONNX model: it has no graph.");
        }
        if (proto.IrVersion <= 0)
        {
            throw new OnnxModelException(sourceName, "not an ONNX model: ir_version is missing.");
        }
        if (!proto.OpsetImport.Any(o => o.Domain is "" or "ai.onnx"))
        {
            throw new OnnxModelException(sourceName, "the model imports no version of the standard ONNX operator set (opset_import is missing or truncated).");
        }
        var source = new TensorSource(sourceName, directory);
        var model = new OnnxModel(Graph.FromProto(proto.Graph, source))
        {
            IrVersion = proto.IrVersion, ProducerName = proto.ProducerName, ProducerVersion = proto.ProducerVersion,
            Domain = proto.Domain, ModelVersion = proto.ModelVersion, DocString = proto.DocString, Source = proto,
        };
        model.OpsetImports.AddRange(proto.OpsetImport.Select(o => new OpsetImport(o.Domain, o.Version)));
        model.Metadata.AddRange(proto.MetadataProps.Select(e => KeyValuePair.Create(e.Key, e.Value)));
        model.Validate(sourceName);
        return model;
    }

    internal ModelProto ToProto()
    {
        var proto = Source?.Clone() ?? new ModelProto();
        proto.IrVersion = IrVersion;
        proto.ProducerName = ProducerName;
        proto.ProducerVersion = ProducerVersion;
        proto.Domain = Domain;
        proto.ModelVersion = ModelVersion;
        proto.DocString = DocString;
        proto.OpsetImport.Clear();
        proto.OpsetImport.Add(OpsetImports.Select(o => new OperatorSetIdProto { Domain = o.Domain, Version = o.Version }));
        proto.MetadataProps.Clear();
        proto.MetadataProps.Add(Metadata.Select(kv => new StringStringEntryProto { Key = kv.Key, Value = kv.Value }));
        proto.Graph = Graph.ToProto();
        return proto;
    }
}
