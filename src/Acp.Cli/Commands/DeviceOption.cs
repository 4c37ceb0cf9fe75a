using System.CommandLine;
using System.Globalization;

namespace Acp.Cli.Commands;

/// <summary><c>--device cpu|cuda[:N]</c>: where the work runs (one meaning for every command that has it).</summary>
internal static class DeviceOption
{
    public static Option<string> Create(string description = "Where the work runs: cpu (default), cuda or cuda:N.")
    {
        var option = new Option<string>("--device") { Description = description, DefaultValueFactory = _ => "cpu" };
        option.Validators.Add(r =>
        {
            if (!IsValid(r.GetValueOrDefault<string>())) r.AddError($"--device must be cpu, cuda or cuda:N; got '{r.GetValueOrDefault<string>()}'.");
        });
        return option;
    }

    /// <summary>True for <c>cpu</c>, <c>cuda</c> and <c>cuda:N</c> (N ≥ 0), case-insensitive.</summary>
    public static bool IsValid(string? device)
    {
        var value = device?.Trim().ToLowerInvariant();
        return value is "cpu" or "cuda"
            || (value is not null && value.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(value.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out _));
    }
}
