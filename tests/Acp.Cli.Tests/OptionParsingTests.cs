using System.CommandLine;
using static Acp.Cli.Tests.CliHarness;

namespace Acp.Cli.Tests;

/// <summary>Values that are not numbers: a usage error of one line, never an aborted process (issue 18, item 4).</summary>
public sealed class OptionParsingTests
{
    private static readonly Type[] Numeric = [typeof(int), typeof(long), typeof(float), typeof(double)];

    /// <summary>Every numeric option of every command, found from the command tree itself so a new option is covered too.</summary>
    public static TheoryData<string, string> NumericOptions()
    {
        var data = new TheoryData<string, string>();
        var root = AcpCommandLine.Create(TextWriter.Null, TextWriter.Null);
        foreach (var command in root.Subcommands)
        {
            foreach (var option in command.Options)
            {
                var type = Nullable.GetUnderlyingType(option.ValueType) ?? option.ValueType;
                if (Numeric.Contains(type)) data.Add(command.Name, option.Name);
            }
        }
        return data;
    }

    [Fact]
    public void The_option_list_is_not_empty()
    {
        // Guards the theory below against silently testing nothing.
        Assert.True(NumericOptions().Count >= 20, $"only {NumericOptions().Count} numeric options found");
    }

    [Theory]
    [MemberData(nameof(NumericOptions))]
    public async Task A_non_numeric_value_is_a_one_line_usage_error(string command, string option)
    {
        foreach (var value in new[] { "abc", "1e999x", "" })
        {
            var (code, _, error) = await RunAcp(command, "model.onnx", option, value);

            Assert.Equal(ExitCodes.Usage, code);
            Assert.Single(error.Trim().Split('\n'));
            Assert.Contains(option, error);
            Assert.DoesNotContain("System.", error);
        }
    }

    [Theory]
    [InlineData("inspect", "--batch", "0", "--batch must be at least 1.")]
    [InlineData("prune", "--target-flops", "1.5", "--target-flops must be above 0 and at most 1.")]
    [InlineData("prune", "--epochs", "-1", "--epochs must be at least 0.")]
    [InlineData("bench", "--runs", "0", "--runs must be at least 1.")]
    public async Task An_out_of_range_number_is_still_refused_with_its_rule(string command, string option, string value, string expected)
    {
        var (code, _, error) = await RunAcp(command, "model.onnx", option, value);

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Single(error.Trim().Split('\n'));
        Assert.Contains(expected, error);
    }
}
