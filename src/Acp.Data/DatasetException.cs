namespace Acp.Data;

/// <summary>
/// Thrown when a data set cannot be read: a missing, truncated or corrupt file, files that disagree with each other
/// (e.g. 60000 images but 59999 labels), or a folder that holds no layout Acp knows. The message starts with the file
/// or folder at fault and says what is wrong with it, because data sets come from users and the message is all they
/// get on the command line.
/// </summary>
public sealed class DatasetException : Exception
{
    /// <summary>Creates the exception for the file or folder <paramref name="path"/> (null when there is none).</summary>
    public DatasetException(string? path, string problem, Exception? inner = null)
        : base(path is null ? problem : $"{path}: {problem}", inner)
    {
        Path = path;
        Problem = problem;
    }

    /// <summary>The file or folder at fault, when there is one.</summary>
    public string? Path { get; }

    /// <summary>What is wrong, without the path.</summary>
    public string Problem { get; }
}
