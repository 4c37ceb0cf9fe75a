using System.CommandLine;
using Acp.Engine;
using Acp.Engine.Data;
using Acp.Onnx;
using Acp.Onnx.Runtime;
using Acp.TorchSharp;

namespace Acp.Cli;

/// <summary>
/// Runs a command body and turns failures into one clear line on standard error and an exit code;
/// stack traces only with --verbose.
/// </summary>
internal static class CommandRunner
{
    public static async Task<int> RunAsync(ParseResult parse, TextWriter error, Func<CancellationToken, Task<int>> body, CancellationToken cancellation)
    {
        try
        {
            return await body(cancellation);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            await error.WriteLineAsync("acp: cancelled.");
            return ExitCodes.Cancelled;
        }
        catch (Exception e)
        {
            var code = ExitCodeOf(e);
            var kind = code == ExitCodes.InternalError ? $"internal error ({e.GetType().Name})" : "error";
            await error.WriteLineAsync($"acp: {kind}: {e.Message}");
            if (parse.GetValue(AcpCommandLine.Verbose)) await error.WriteLineAsync(e.ToString());
            return code;
        }
    }

    private static int ExitCodeOf(Exception e) => e switch
    {
        OnnxModelException or EngineException or DatasetException or FileNotFoundException or DirectoryNotFoundException or ArgumentException or TorchBackendException => ExitCodes.InvalidInput,
        OrtException or IOException or UnauthorizedAccessException or InvalidOperationException => ExitCodes.Failure,
        _ => ExitCodes.InternalError,
    };
}
