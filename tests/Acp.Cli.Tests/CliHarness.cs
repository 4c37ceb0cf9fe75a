namespace Acp.Cli.Tests;

internal static class CliHarness
{
    public static async Task<(int Code, string Out, string Err)> RunAcp(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await AcpCommandLine.InvokeAsync(args, output, error);
        return (code, output.ToString(), error.ToString());
    }
}
