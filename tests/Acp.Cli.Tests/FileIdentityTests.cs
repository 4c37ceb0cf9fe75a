namespace Acp.Cli.Tests;

/// <summary>Files compared by what they are, not by how their paths are spelled (issue 18, item 1).</summary>
public sealed class FileIdentityTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("acp-identity-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, string text = "model")
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void A_symbolic_link_and_its_target_are_one_file()
    {
        var real = Write("real.onnx");
        var link = Path.Combine(_dir, "link.onnx");
        File.CreateSymbolicLink(link, "real.onnx");

        Assert.True(FileIdentity.Same(link, real));
        Assert.Equal(real, FileIdentity.RealPath(link));
    }

    [Fact]
    public void A_path_through_a_linked_folder_is_the_file_in_the_real_folder_even_before_it_exists()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "real"));
        Directory.CreateSymbolicLink(Path.Combine(_dir, "alias"), Path.Combine(_dir, "real"));

        Assert.Equal(Path.Combine(_dir, "real", "new.onnx"), FileIdentity.RealPath(Path.Combine(_dir, "alias", "new.onnx")));
        Assert.True(FileIdentity.IsWithin(Path.Combine(_dir, "alias", "new.onnx"), Path.Combine(_dir, "real")));
        Assert.False(FileIdentity.IsWithin(Path.Combine(_dir, "realer", "x"), Path.Combine(_dir, "real")));
    }

    [Fact]
    public void Two_hard_links_of_one_file_are_one_file_and_two_copies_are_not()
    {
        if (!OperatingSystem.IsLinux()) return;
        var real = Write("real.onnx");
        var hard = Path.Combine(_dir, "hard.onnx");
        HardLink(real, hard);
        var copy = Write("copy.onnx");

        Assert.True(FileIdentity.Same(hard, real));
        Assert.False(FileIdentity.Same(copy, real));
        // The oracle: the kernel's own answer through stat(1).
        Assert.Equal(Stat(real), FileIdentity.Inode(hard)?.Inode.ToString());
    }

    internal static void HardLink(string existing, string link)
    {
        using var ln = System.Diagnostics.Process.Start("ln", [existing, link]);
        ln.WaitForExit();
        Assert.Equal(0, ln.ExitCode);
    }

    private static string Stat(string path)
    {
        var info = new System.Diagnostics.ProcessStartInfo("stat", ["-c", "%i", path]) { RedirectStandardOutput = true };
        using var stat = System.Diagnostics.Process.Start(info)!;
        var text = stat.StandardOutput.ReadToEnd().Trim();
        stat.WaitForExit();
        return text;
    }
}
