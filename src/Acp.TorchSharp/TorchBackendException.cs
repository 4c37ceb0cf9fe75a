namespace Acp.TorchSharp;

/// <summary>A model, device or native-library problem of the TorchSharp backend, with a one-line message.</summary>
public sealed class TorchBackendException(string message) : Exception(message);
