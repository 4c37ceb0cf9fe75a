namespace Acp.Onnx;

/// <summary>
/// Thrown when an ONNX model cannot be read, written or understood. The message names the model
/// (its file, or the name the caller gave a stream) and what is wrong with it.
/// </summary>
public sealed class OnnxModelException : Exception
{
    /// <summary>Creates the exception for the model called <paramref name="source"/>.</summary>
    public OnnxModelException(string? source, string problem, Exception? inner = null)
        : base(source is null ? problem : $"{source}: {problem}", inner)
    {
        Source = source;
        Problem = problem;
    }

    /// <summary>The file path or stream name of the model, when known.</summary>
    public new string? Source { get; }

    /// <summary>What is wrong, without the model's name.</summary>
    public string Problem { get; }
}
