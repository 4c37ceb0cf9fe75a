using System.Runtime.InteropServices;

namespace Acp.Cli;

/// <summary>
/// Which file a path names, independent of how it is spelled: symbolic links are followed to the real path, and on
/// Linux two hard links of one file are the same device and inode. Comparing path strings missed both (issue 18, item 1):
/// <c>acp prune link.onnx --out real.onnx --force</c> replaced the user's model.
/// </summary>
internal static class FileIdentity
{
    /// <summary>The path with every symbolic link in it resolved, absolute; for a path that does not exist yet, its existing ancestor resolved plus the rest.</summary>
    public static string RealPath(string path)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        var parent = Path.GetDirectoryName(full);
        if (parent is null) return full;
        var resolvedParent = RealPath(parent);
        var combined = Path.Combine(resolvedParent, Path.GetFileName(full));
        // Follows a chain of links to its end; a link to a missing target still names that target.
        var info = new FileInfo(combined);
        if (info.LinkTarget is not null)
        {
            var target = info.ResolveLinkTarget(returnFinalTarget: true);
            return target is null ? combined : RealPath(target.FullName);
        }
        return combined;
    }

    /// <summary>Whether <paramref name="a"/> and <paramref name="b"/> name one file: the same real path, or (Linux) the same device and inode.</summary>
    public static bool Same(string a, string b)
    {
        if (string.Equals(RealPath(a), RealPath(b), PathComparison)) return true;
        return Inode(a) is { } x && Inode(b) is { } y && x == y;
    }

    /// <summary>Whether <paramref name="path"/> is <paramref name="folder"/> or lies inside it, links resolved.</summary>
    public static bool IsWithin(string path, string folder)
    {
        var p = RealPath(path);
        var f = RealPath(folder);
        return string.Equals(p, f, PathComparison) || p.StartsWith(f.EndsWith(Path.DirectorySeparatorChar) ? f : f + Path.DirectorySeparatorChar, PathComparison);
    }

    private static StringComparison PathComparison => OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;

    /// <summary>(device, inode) of an existing file on Linux; null elsewhere or when it cannot be read.</summary>
    internal static (ulong Device, ulong Inode)? Inode(string path)
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture is not (Architecture.X64 or Architecture.Arm64)) return null;
        // struct stat on 64-bit Linux (x86-64 and the generic layout of arm64) starts with dev_t st_dev, ino_t st_ino, both 64 bits.
        var buffer = new byte[256];
        try
        {
            if (Stat(path, buffer) != 0) return null;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
        return (BitConverter.ToUInt64(buffer, 0), BitConverter.ToUInt64(buffer, 8));
    }

    [DllImport("libc", EntryPoint = "stat", SetLastError = true)]
    private static extern int Stat([MarshalAs(UnmanagedType.LPUTF8Str)] string path, byte[] buffer);
}
