using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Acp.Onnx;

/// <summary>The kind of processor a <see cref="ComputeDevice"/> names.</summary>
public enum ComputeDeviceKind
{
    /// <summary>The CPU.</summary>
    Cpu,

    /// <summary>An NVIDIA GPU through CUDA.</summary>
    Cuda,
}

/// <summary>
/// Where a backend runs a model: the CPU, or one CUDA GPU by index. Written as <c>cpu</c>, <c>cuda</c> (device 0) or
/// <c>cuda:N</c>; <see cref="ToString"/> gives text that <see cref="Parse"/> reads back to an equal value. Knows nothing of
/// any runtime: each backend maps it to its own device selection (ONNX Runtime: an execution provider).
/// </summary>
public readonly record struct ComputeDevice
{
    private ComputeDevice(ComputeDeviceKind kind, int index)
    {
        Kind = kind;
        Index = index;
    }

    /// <summary>The CPU.</summary>
    public static ComputeDevice Cpu => default;

    /// <summary>The processor kind.</summary>
    public ComputeDeviceKind Kind { get; }

    /// <summary>The device index among devices of its kind; always 0 for the CPU.</summary>
    public int Index { get; }

    /// <summary>The CUDA GPU with index <paramref name="index"/> (0 is the first).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is negative.</exception>
    public static ComputeDevice Cuda(int index = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        return new ComputeDevice(ComputeDeviceKind.Cuda, index);
    }

    /// <summary>Reads <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c> (case-insensitive, N a non-negative integer).</summary>
    /// <exception cref="FormatException">The text is none of those; the message says what is accepted.</exception>
    public static ComputeDevice Parse(string text) =>
        TryParse(text, out var device)
            ? device
            : throw new FormatException($"'{text}' is not a device; expected cpu, cuda or cuda:N (N = GPU index, 0 or more).");

    /// <summary>Reads <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>; false for anything else.</summary>
    public static bool TryParse([NotNullWhen(true)] string? text, out ComputeDevice device)
    {
        device = Cpu;
        var trimmed = text?.Trim();
        if (string.Equals(trimmed, "cpu", StringComparison.OrdinalIgnoreCase)) return true;
        if (string.Equals(trimmed, "cuda", StringComparison.OrdinalIgnoreCase))
        {
            device = Cuda(0);
            return true;
        }
        const string prefix = "cuda:";
        if (trimmed is not null && trimmed.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)
            && trimmed.Length > prefix.Length && trimmed[prefix.Length..].All(char.IsAsciiDigit)
            && int.TryParse(trimmed[prefix.Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var index))
        {
            device = Cuda(index);
            return true;
        }
        return false;
    }

    /// <summary><c>cpu</c> or <c>cuda:N</c>.</summary>
    public override string ToString() =>
        Kind == ComputeDeviceKind.Cpu ? "cpu" : "cuda:" + Index.ToString(CultureInfo.InvariantCulture);
}
