namespace Acp.Engine;

/// <summary>
/// Thrown when the engine cannot build or run a network: an unsupported operator, a wrong input shape, NaN where
/// numbers are required. The message names the node or value at fault.
/// </summary>
public sealed class EngineException : Exception
{
    /// <summary>Creates the exception.</summary>
    public EngineException(string message, Exception? inner = null) : base(message, inner)
    {
    }
}
