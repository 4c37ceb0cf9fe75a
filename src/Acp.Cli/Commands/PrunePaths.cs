namespace Acp.Cli.Commands;

/// <summary>
/// Checks, before any work, that no output of <c>acp prune</c> (--out, the run folder, the --report folder) can touch an
/// input (the model, the --data folder), whatever links lie between them, and that --out names a file that can be written.
/// </summary>
internal static class PrunePaths
{
    /// <exception cref="ArgumentException">An output would overwrite, delete or sit inside an input, or --out cannot be a file.</exception>
    public static void Check(PruneCommand.Job job, string outArgument)
    {
        CheckOutFile(outArgument, job.Output.FullName);
        var model = job.Model.FullName;
        var output = job.Output.FullName;
        if (FileIdentity.Same(model, output))
        {
            throw new ArgumentException($"--out names the input model ({FileIdentity.RealPath(model)}, through a link or as the same file); write the pruned model to another file.");
        }
        var folders = new List<(string Name, string Path)>();
        if (job.Pruning.RunDirectory is { } run) folders.Add(("the run folder", run));
        if (job.Report is { } report) folders.Add(("--report", report.FullName));
        foreach (var (name, folder) in folders)
        {
            if (FileIdentity.IsWithin(model, folder)) throw new ArgumentException($"{name} ({folder}) holds the input model; choose a folder that does not contain it.");
            if (job.Data is { } d && (FileIdentity.IsWithin(d.FullName, folder) || FileIdentity.IsWithin(folder, d.FullName)))
            {
                throw new ArgumentException($"{name} ({folder}) overlaps the --data folder; choose a folder outside it.");
            }
        }
        if (job.Data is { } data)
        {
            if (FileIdentity.IsWithin(output, data.FullName)) throw new ArgumentException($"--out ({output}) lies inside the --data folder; write the pruned model elsewhere.");
            if (File.Exists(output) && data.Exists && FileIdentity.Inode(output) is { } outInode)
            {
                // A hard link of a data file elsewhere: the real path differs, the inode does not.
                foreach (var file in Directory.EnumerateFiles(data.FullName, "*", SearchOption.AllDirectories))
                {
                    if (FileIdentity.Inode(file) == outInode) throw new ArgumentException($"--out ({output}) is the same file as {file} in the --data folder; write the pruned model elsewhere.");
                }
            }
        }
    }

    /// <summary>--out must name a file: not a folder, not a path with a trailing separator, not under a regular file.</summary>
    private static void CheckOutFile(string argument, string full)
    {
        if (argument.EndsWith(Path.DirectorySeparatorChar) || argument.EndsWith(Path.AltDirectorySeparatorChar) || Directory.Exists(full))
        {
            throw new ArgumentException($"--out {argument} names a folder; give the file to write, e.g. {Path.Combine(argument, "pruned.onnx")}.");
        }
        for (var parent = Path.GetDirectoryName(full); parent is not null; parent = Path.GetDirectoryName(parent))
        {
            if (File.Exists(parent)) throw new ArgumentException($"--out {argument} cannot be written: {parent} is a file, not a folder.");
            if (Directory.Exists(parent)) break;
        }
    }
}
