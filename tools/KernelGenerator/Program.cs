using Acp.Tools.KernelGenerator;

// Writes every generated kernel file below the repository root (the current folder unless given), or with --check
// only reports which files differ from what the generator writes (exit 1).
var check = args.Contains("--check");
var root = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal)) ?? Directory.GetCurrentDirectory();
if (!File.Exists(Path.Combine(root, "Acp.sln")))
{
    Console.Error.WriteLine($"kernel generator: '{Path.GetFullPath(root)}' is not the repository root (no Acp.sln); run it from there or pass the root.");
    return 2;
}
var stale = 0;
foreach (var file in GeneratedKernels.Files())
{
    var path = Path.Combine(root, file.Path);
    var current = File.Exists(path) ? File.ReadAllText(path) : null;
    if (current == file.Text) continue;
    stale++;
    if (check)
    {
        Console.Error.WriteLine($"{file.Path} differs from the generator's output.");
        continue;
    }
    File.WriteAllText(path, file.Text);
    Console.WriteLine($"wrote {file.Path}");
}
if (stale == 0) Console.WriteLine("generated kernels are up to date");
return check && stale > 0 ? 1 : 0;
