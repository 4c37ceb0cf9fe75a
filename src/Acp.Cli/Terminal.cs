using Spectre.Console;

namespace Acp.Cli;

/// <summary>Spectre.Console consoles bound to a given writer, so commands render to whatever stream the caller passes.</summary>
internal static class Terminal
{
    public static IAnsiConsole For(TextWriter writer)
    {
        var isConsole = ReferenceEquals(writer, Console.Out) && !Console.IsOutputRedirected;
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = isConsole ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = isConsole ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = isConsole ? InteractionSupport.Detect : InteractionSupport.No,
        });
        if (!isConsole)
        {
            // Redirected output has no terminal width; wrapping long layer names at 80 columns would break every row.
            console.Profile.Width = 200;
        }
        return console;
    }
}
