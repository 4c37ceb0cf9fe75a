using System.CommandLine;
using Acp.Cli.Commands;

namespace Acp.Cli;

/// <summary>The `acp` command tree. Commands only parse arguments and call the libraries.</summary>
public static class AcpCommandLine
{
    /// <summary>Shown with --verbose: stack traces on errors.</summary>
    internal static readonly Option<bool> Verbose = new("--verbose") { Description = "Print stack traces with errors.", Recursive = true };

    /// <summary>Suppresses progress and decoration; results and errors are still printed.</summary>
    internal static readonly Option<bool> Quiet = new("--quiet", "-q") { Description = "Print only results and errors, no progress.", Recursive = true };

    /// <summary>Builds the root command.</summary>
    public static RootCommand Create(TextWriter output, TextWriter error)
    {
        var root = new RootCommand("acp: automatic channel pruning of convolutional networks in ONNX models.");
        root.Options.Add(Verbose);
        root.Options.Add(Quiet);
        root.Subcommands.Add(InspectCommand.Create(output, error));
        root.Subcommands.Add(EvalCommand.Create(output, error));
        root.Subcommands.Add(PruneCommand.Create(output, error));
        root.Subcommands.Add(BenchCommand.Create(output, error));
        root.Subcommands.Add(DemoCommand.Create(output, error));
        return root;
    }

    /// <summary>Parses and runs; returns the process exit code (see <see cref="ExitCodes"/>).</summary>
    /// <param name="args">The command line.</param>
    /// <param name="output">Results and progress.</param>
    /// <param name="error">Errors: one line each (stack traces only with --verbose).</param>
    /// <param name="cancellation">Cancels the running command (Ctrl+C); it then ends with <see cref="ExitCodes.Cancelled"/>.</param>
    public static async Task<int> InvokeAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellation = default)
    {
        var root = Create(output, error);
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            // One line, not the parser's error list followed by the whole help text.
            var command = string.Join(' ', parsed.CommandResult.Command.Parents.OfType<Command>().Reverse().Skip(1)
                .Append(parsed.CommandResult.Command).Where(c => c != root).Select(c => c.Name));
            var help = command.Length == 0 ? "acp --help" : $"acp {command} --help";
            await error.WriteLineAsync($"acp: {string.Join(" ", parsed.Errors.Select(e => Readable(e.Message)).Distinct())} ({help} lists the options.)");
            return ExitCodes.Usage;
        }
        // Signals are Program's business (SignalCancellation): the library's own handler registers only after a
        // synchronous command body has already run, so it never saw Ctrl+C.
        var configuration = new InvocationConfiguration { Output = output, Error = error, ProcessTerminationTimeout = null };
        return await parsed.InvokeAsync(configuration, cancellation);
    }

    private static readonly System.Text.RegularExpressions.Regex ConversionError =
        new(@"^Cannot parse argument '(?<token>.*)' for option '(?<option>[^']+)' as expected type '(?<type>[^']+)'\.$");

    /// <summary>The parser names .NET types ("System.Nullable`1[System.Double]"); say what a person would type instead.</summary>
    private static string Readable(string message)
    {
        var match = ConversionError.Match(message);
        // Some parser messages list choices one per line ("Must be one of:\n\t'acp'..."): an error stays one line.
        if (!match.Success) return string.Join(" ", message.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
        var type = match.Groups["type"].Value;
        var expected = type.Contains("Int", StringComparison.Ordinal) ? "a whole number"
            : type.Contains("Double", StringComparison.Ordinal) || type.Contains("Single", StringComparison.Ordinal) ? "a number"
            : "a value of another kind";
        return $"{match.Groups["option"].Value}: '{match.Groups["token"].Value}' is not {expected}.";
    }
}
