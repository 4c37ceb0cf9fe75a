namespace Acp.Onnx.Runtime;

/// <summary>A session was asked for a device whose execution provider is missing from the process or cannot start.</summary>
public sealed class ComputeDeviceUnavailableException : InvalidOperationException
{
    /// <summary>Creates the exception for <paramref name="device"/> with a one-line <paramref name="message"/>.</summary>
    public ComputeDeviceUnavailableException(ComputeDevice device, string message, Exception? inner = null)
        : base(message, inner)
    {
        Device = device;
    }

    /// <summary>The device that was asked for.</summary>
    public ComputeDevice Device { get; }
}
