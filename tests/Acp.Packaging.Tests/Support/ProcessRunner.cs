using System.Diagnostics;
using System.Text;

namespace Acp.Tests.Support;

/// <summary>What a finished child process did.</summary>
/// <param name="CommandLine">The command as run, for messages.</param>
/// <param name="ExitCode">Its exit code.</param>
/// <param name="StandardOutput">Everything it printed to standard output.</param>
/// <param name="StandardError">Everything it printed to standard error.</param>
public sealed record ProcessResult(string CommandLine, int ExitCode, string StandardOutput, string StandardError)
{
    /// <summary>The command, exit code and both streams, for assertion messages.</summary>
    public string Describe() =>
        $"$ {CommandLine}\nexit code {ExitCode}\n--- stdout ---\n{StandardOutput}\n--- stderr ---\n{StandardError}";

    /// <summary>Returns this result when the exit code is 0, otherwise throws with the whole output.</summary>
    public ProcessResult EnsureSuccess() =>
        ExitCode == 0 ? this : throw new InvalidOperationException("A child process failed.\n" + Describe());
}

/// <summary>
/// Runs child processes (dotnet pack, dotnet tool install, the installed tool) with a time limit, capturing their
/// output. A process that overruns is killed with its children, so a hung build cannot hang the test run.
/// </summary>
public static class ProcessRunner
{
    /// <summary>
    /// Runs <paramref name="fileName"/> with <paramref name="arguments"/> in <paramref name="workingDirectory"/>.
    /// Variables in <paramref name="environment"/> are set (a null value removes the variable).
    /// </summary>
    /// <exception cref="TimeoutException">The process ran longer than <paramref name="timeout"/>; it has been killed.</exception>
    public static ProcessResult Run(string fileName, IEnumerable<string> arguments, string workingDirectory, TimeSpan timeout,
        IReadOnlyDictionary<string, string?>? environment = null)
    {
        var start = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        ForChildDotnet(start.Environment);
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null) start.Environment.Remove(name);
            else start.Environment[name] = value;
        }

        var commandLine = string.Join(' ', new[] { fileName }.Concat(start.ArgumentList.Select(Quote)));
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {commandLine}.");
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            throw new TimeoutException($"{commandLine} did not finish within {timeout} and was killed.\n--- stdout ---\n{Drain(output)}\n--- stderr ---\n{Drain(error)}");
        }
        // A grandchild that outlives the process may hold the pipes open; the output so far is then enough.
        return new ProcessResult(commandLine, process.ExitCode, Drain(output), Drain(error));
    }

    /// <summary>
    /// dotnet test hands its own MSBuild settings to the test host; a dotnet started from a test must not inherit them,
    /// or it builds with the SDK paths and node handshake of the outer build.
    /// </summary>
    private static void ForChildDotnet(IDictionary<string, string?> environment)
    {
        foreach (var name in environment.Keys.ToList())
        {
            if (name.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || name.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase))
            {
                environment.Remove(name);
            }
        }
        environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        environment["DOTNET_NOLOGO"] = "1";
        environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
    }

    private static string Drain(Task<string> read) => read.Wait(TimeSpan.FromSeconds(10)) ? read.Result : "(output still open after the process exited)";

    private static string Quote(string argument) =>
        argument.Length > 0 && !argument.Any(c => char.IsWhiteSpace(c) || c is '"' or '\'') ? argument : $"'{argument.Replace("'", "'\\''")}'";
}
