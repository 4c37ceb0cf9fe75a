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
    public static async Task<int> InvokeAsync(string[] args, TextWriter output, TextWriter error)
    {
        var root = Create(output, error);
        var parsed = root.Parse(args);
        return await parsed.InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
    }
}
