using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Acp.Onnx.Ir;
using Acp.Pruning.Tests.Pipeline;
using static Acp.Cli.Tests.CliHarness;

namespace Acp.Cli.Tests;

/// <summary>
/// Ctrl+C on a real <c>acp</c> process (issue 18, item 7): the run stops through its cancellation token, prints one line,
/// exits 130, leaves nothing at --out, and <c>--resume</c> finishes it.
/// </summary>
public sealed partial class CancellationTests : IDisposable
{
    private const int SigInt = 2, SigTerm = 15;

    private readonly string _dir = Directory.CreateTempSubdirectory("acp-cancel-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int signal);

    [Fact]
    public async Task Sigint_during_a_run_cancels_it_cleanly_and_resume_completes_it()
    {
        var model = Path.Combine(_dir, "model.onnx");
        TrainedSmallCnn.Model().Save(model);
        var data = SmallIdxData.Write(Path.Combine(_dir, "data"));
        var output = Path.Combine(_dir, "slim.onnx");
        string[] prune = ["prune", model, "--data", data, "--target-flops", "0.5", "--out", output, "--quiet", "--no-test",
            "--particles", "3", "--cycles", "2", "--epochs", "1", "--validation-images", "500", "--round-to", "2", "--mean", "0.2860", "--std", "0.3530"];

        using var acp = Start(prune);
        // Signal once the search is under way: its first evaluation is on disk.
        var started = Path.Combine(output + ".run", "evaluations.jsonl");
        var clock = Stopwatch.StartNew();
        while (!(File.Exists(started) && new FileInfo(started).Length > 0))
        {
            if (acp.HasExited) Assert.Fail($"acp ended (exit {acp.ExitCode}) before the run started: {await acp.StandardError.ReadToEndAsync()}");
            Assert.True(clock.Elapsed < TimeSpan.FromMinutes(2), "the search did not start within 2 minutes");
            await Task.Delay(20);
        }
        // A process started with SIGINT ignored (a background job of a non-interactive shell) keeps ignoring it, as
        // POSIX programs should; SIGTERM goes through the same handler then.
        if (acp.HasExited) Assert.Fail($"the run ended (exit {acp.ExitCode}) before it could be interrupted: {await acp.StandardError.ReadToEndAsync()}");
        var signal = IgnoresSigint(acp.Id) ? SigTerm : SigInt;
        Assert.True(kill(acp.Id, signal) == 0, $"kill failed (errno {Marshal.GetLastPInvokeError()}), exited: {acp.HasExited}, {clock.Elapsed} after start");
        var stderr = acp.StandardError.ReadToEndAsync();
        var exited = acp.WaitForExitAsync();
        Assert.True(await Task.WhenAny(exited, Task.Delay(TimeSpan.FromSeconds(60))) == exited, "acp did not stop within 60 s of the signal");

        Assert.True(acp.ExitCode == ExitCodes.Cancelled, $"exit {acp.ExitCode} after signal {signal} sent {clock.Elapsed} after start: {await stderr}");
        Assert.Equal("acp: cancelled.", (await stderr).Trim());
        Assert.False(File.Exists(output), "a cancelled run left a model at --out");
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp", SearchOption.AllDirectories));

        var (code, _, error) = await RunAcp([.. prune, "--resume"]);

        Assert.True(code == 0, error);
        Assert.NotEmpty(OnnxModel.Load(output).Graph.Nodes);
        Assert.True(File.Exists(Path.Combine(output + ".run", "finetune.json")), "the resumed run did not fine-tune");
    }

    private static Process Start(string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "acp.dll"));
        foreach (var arg in args) start.ArgumentList.Add(arg);
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        return process;
    }

    private static bool IgnoresSigint(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        return line is not null && (ulong.Parse(line["SigIgn:".Length..].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture) & (1UL << (SigInt - 1))) != 0;
    }
}
