using System.CommandLine;
using System.CommandLine.Parsing;

namespace Acp.Cli;

/// <summary>
/// Range checks for options. A check only looks at a value that parsed: a token that is not a number of the option's
/// type already carries System.CommandLine's own parse error, and asking such a result for its value throws
/// (InvalidOperationException) instead of reporting it, which aborted the process.
/// </summary>
internal static class OptionRules
{
    /// <summary>Adds an error with <paramref name="message"/> when the parsed value fails <paramref name="valid"/>.</summary>
    public static Option<T> Require<T>(this Option<T> option, Func<T, bool> valid, string message)
    {
        option.Validators.Add(result =>
        {
            if (TryGetValue(result, out T value) && !valid(value)) result.AddError(message);
        });
        return option;
    }

    /// <summary>Like <see cref="Require{T}(Option{T}, Func{T, bool}, string)"/> for an optional value: absent passes.</summary>
    public static Option<T?> RequireWhenGiven<T>(this Option<T?> option, Func<T, bool> valid, string message) where T : struct =>
        option.Require(v => v is not { } given || valid(given), message);

    private static bool TryGetValue<T>(OptionResult result, out T value)
    {
        value = default!;
        try
        {
            value = result.GetValueOrDefault<T>();
            return true;
        }
        catch (InvalidOperationException)
        {
            // The token did not convert; its parse error is reported by the parser.
            return false;
        }
    }
}
