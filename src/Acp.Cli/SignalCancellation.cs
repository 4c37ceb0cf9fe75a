using System.Runtime.InteropServices;

namespace Acp.Cli;

/// <summary>
/// Turns the first SIGINT (Ctrl+C) or SIGTERM into a cancellation of <see cref="Token"/>, which the commands observe
/// between steps: the current atomic write finishes or is discarded, and the command ends with "acp: cancelled." and
/// exit code 130. A second signal is left to its default action and ends the process at once.
/// </summary>
internal sealed class SignalCancellation : IDisposable
{
    private readonly CancellationTokenSource _source = new();
    private readonly PosixSignalRegistration[] _registrations;
    private int _signals;

    public SignalCancellation()
    {
        _registrations = [PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal), PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal)];
    }

    /// <summary>Cancelled by the first signal.</summary>
    public CancellationToken Token => _source.Token;

    private void OnSignal(PosixSignalContext context)
    {
        if (Interlocked.Increment(ref _signals) > 1) return; // default action: terminate now
        context.Cancel = true;
        // Cancel on another thread: callbacks registered on the token must not run inside the signal handler.
        ThreadPool.QueueUserWorkItem(_ => _source.Cancel());
    }

    public void Dispose()
    {
        foreach (var registration in _registrations) registration.Dispose();
        _source.Dispose();
    }
}
