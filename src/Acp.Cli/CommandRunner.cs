using System.CommandLine;
using Acp.Engine;
using Acp.Data;
using Acp.Onnx;
using Acp.TorchSharp;
using Microsoft.ML.OnnxRuntime;

namespace Acp.Cli;

/// <summary>
/// Runs a command body and turns failures into one clear line on standard error and an exit code;
/// stack traces only with --verbose.
/// </summary>
internal static class CommandRunner
{
    /// <summary>
    /// How long a cancelled command may take to reach a point where it checks its token. Steps that never check it
    /// (a structure-only prune, a latency measurement) are abandoned after this: every file Acp writes is written to a
    /// temporary name and renamed, so leaving mid-step never leaves a half-written output.
    /// </summary>
    internal static readonly TimeSpan CancellationGrace = TimeSpan.FromSeconds(5);

    public static async Task<int> RunAsync(ParseResult parse, TextWriter error, Func<CancellationToken, Task<int>> body, CancellationToken cancellation)
    {
        try
        {
            // On the thread pool, so that a body that runs synchronously to its end still lets Ctrl+C be answered.
            var work = Task.Run(() => body(cancellation), CancellationToken.None);
            var signalled = new TaskCompletionSource();
            using (cancellation.Register(() => signalled.TrySetResult()))
            {
                if (await Task.WhenAny(work, signalled.Task) != work && await Task.WhenAny(work, Task.Delay(CancellationGrace, CancellationToken.None)) != work)
                {
                    await error.WriteLineAsync("acp: cancelled.");
                    return ExitCodes.Cancelled;
                }
            }
            return await work;
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            await error.WriteLineAsync("acp: cancelled.");
            return ExitCodes.Cancelled;
        }
        catch (Exception e)
        {
            var code = ExitCodeOf(e);
            var kind = e is Commands.PrunedModelRefusedException ? "internal error" : code == ExitCodes.InternalError ? $"internal error ({e.GetType().Name})" : "error";
            await error.WriteLineAsync($"acp: {kind}: {e.Message}");
            if (parse.GetValue(AcpCommandLine.Verbose)) await error.WriteLineAsync(e.ToString());
            return code;
        }
    }

    private static int ExitCodeOf(Exception e) => e switch
    {
        OnnxModelException or EngineException or DatasetException or FileNotFoundException or DirectoryNotFoundException or ArgumentException or TorchBackendException => ExitCodes.InvalidInput,
        OnnxRuntimeException or IOException or UnauthorizedAccessException or InvalidOperationException => ExitCodes.Failure,
        _ => ExitCodes.InternalError,
    };
}
