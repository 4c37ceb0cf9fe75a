using Acp.Cli.Commands;
using static Acp.Cli.Tests.CliHarness;

namespace Acp.Cli.Tests;

/// <summary>
/// <c>acp demo</c> runs for minutes on the full data set, so the tests check what it is made of: the embedded model is
/// the repository's, and bad input fails cleanly. The whole demo is the README's main job (scripts/demo.sh).
/// </summary>
public sealed class DemoCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("acp-demo-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void The_embedded_model_is_the_one_in_the_repository()
    {
        var written = Path.Combine(_dir, DemoCommand.ModelName);
        DemoCommand.WriteEmbeddedModel(written);
        Assert.Equal(File.ReadAllBytes(Path.Combine(RepositoryRoot(), "models", DemoCommand.ModelName)), File.ReadAllBytes(written));
    }

    [Fact]
    public async Task A_missing_data_folder_names_the_package_to_install()
    {
        var (code, _, error) = await RunAcp("demo", "--out", _dir, "--data", Path.Combine(_dir, "no-such-folder"));
        Assert.Equal(ExitCodes.InvalidInput, code);
        Assert.Contains("dataset-fashion-mnist", error);
        Assert.Single(error.Trim().Split('\n'));
    }

    [Theory]
    [InlineData("--epochs", "-1")]
    [InlineData("--target-flops", "0")]
    public async Task Out_of_range_arguments_are_usage_errors(string option, string value)
    {
        var (code, _, error) = await RunAcp("demo", "--out", _dir, option, value);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains(option, error);
    }

    [Fact]
    public async Task Help_lists_every_verb()
    {
        var (code, stdout, _) = await RunAcp("--help");
        Assert.Equal(0, code);
        foreach (var verb in new[] { "inspect", "eval", "prune", "bench", "demo" }) Assert.Contains(verb, stdout);
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Acp.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException("The repository root (Acp.sln) is not above the test binaries.");
    }
}
