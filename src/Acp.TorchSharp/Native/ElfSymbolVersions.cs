using System.Buffers.Binary;
using System.Text;

namespace Acp.TorchSharp.Native;

/// <summary>One symbol-version requirement of a shared object: the library it is needed from, the version, and whether it is weak.</summary>
/// <param name="File">The library the version is needed from (e.g. <c>libstdc++.so.6</c>).</param>
/// <param name="Version">The version name (e.g. <c>GLIBCXX_3.4.32</c>).</param>
/// <param name="IsWeak">True when the entry carries <c>VER_FLG_WEAK</c>: the dynamic loader then accepts a library without it.</param>
public sealed record ElfVersionNeed(string File, string Version, bool IsWeak);

/// <summary>
/// Reads the symbol-version sections of a 64-bit little-endian ELF shared object (<c>.gnu.version_r</c>, the versions
/// it needs; <c>.gnu.version_d</c>, the versions it defines) and sets the weak flag of a needed version in place.
/// </summary>
/// <remarks>
/// Only the two-byte flags field of one <c>Elf64_Vernaux</c> entry is ever written: the file keeps its size, layout,
/// symbols and code, so the edit cannot move anything the loader or the code relies on.
/// </remarks>
public static class ElfSymbolVersions
{
    /// <summary>The <c>vna_flags</c> bit that makes a needed version optional (elf.h: VER_FLG_WEAK).</summary>
    public const ushort WeakFlag = 0x2;

    private const uint VersionNeedSection = 0x6ffffffe; // SHT_GNU_verneed
    private const uint VersionDefinitionSection = 0x6ffffffd; // SHT_GNU_verdef

    /// <summary>Every version the file needs, in section order.</summary>
    /// <exception cref="InvalidDataException">The file is not a 64-bit little-endian ELF file or its sections are malformed.</exception>
    public static IReadOnlyList<ElfVersionNeed> ReadNeeds(string path) =>
        ReadNeedEntries(File.ReadAllBytes(path), path).Select(e => e.Need).ToList();

    /// <summary>Every version name the file defines (e.g. all <c>GLIBCXX_*</c> of a libstdc++).</summary>
    /// <exception cref="InvalidDataException">The file is not a 64-bit little-endian ELF file or its sections are malformed.</exception>
    public static IReadOnlySet<string> ReadDefinitions(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var result = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (section, strings) in Sections(bytes, path, VersionDefinitionSection))
        {
            var at = section.Offset;
            for (var i = 0; i < section.Info; i++)
            {
                Check(bytes, at, 20, path);
                var count = U16(bytes, at + 6);
                var aux = at + U32(bytes, at + 12);
                for (var j = 0; j < count; j++)
                {
                    Check(bytes, aux, 8, path);
                    result.Add(ReadString(bytes, strings, U32(bytes, aux), path));
                    aux += U32(bytes, aux + 4);
                }
                var next = U32(bytes, at + 16);
                if (next == 0) break;
                at += next;
            }
        }
        return result;
    }

    /// <summary>
    /// Marks the need of <paramref name="version"/> from <paramref name="file"/> weak. Returns true when the file was
    /// changed, false when the entry was weak already (so a second call changes nothing).
    /// </summary>
    /// <exception cref="InvalidDataException">The file does not need that version from that library, or is not a 64-bit little-endian ELF file.</exception>
    public static bool MarkNeedWeak(string path, string file, string version)
    {
        var bytes = File.ReadAllBytes(path);
        var entry = ReadNeedEntries(bytes, path).FirstOrDefault(e => e.Need.File == file && e.Need.Version == version)
            ?? throw new InvalidDataException($"{Path.GetFileName(path)} does not need {version} from {file}.");
        if (entry.Need.IsWeak) return false;
        var flags = (ushort)(U16(bytes, entry.FlagsOffset) | WeakFlag);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Write);
        stream.Position = entry.FlagsOffset;
        Span<byte> buffer = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(buffer, flags);
        stream.Write(buffer);
        return true;
    }

    private sealed record NeedEntry(ElfVersionNeed Need, int FlagsOffset);

    private readonly record struct Section(uint Type, int Offset, int Size, int Link, int Info);

    private static List<NeedEntry> ReadNeedEntries(byte[] bytes, string path)
    {
        var result = new List<NeedEntry>();
        foreach (var (section, strings) in Sections(bytes, path, VersionNeedSection))
        {
            var at = section.Offset;
            for (var i = 0; i < section.Info; i++)
            {
                Check(bytes, at, 16, path);
                var count = U16(bytes, at + 2);
                var file = ReadString(bytes, strings, U32(bytes, at + 4), path);
                var aux = at + U32(bytes, at + 8);
                for (var j = 0; j < count; j++)
                {
                    Check(bytes, aux, 16, path);
                    var flags = U16(bytes, aux + 4);
                    var name = ReadString(bytes, strings, U32(bytes, aux + 8), path);
                    result.Add(new NeedEntry(new ElfVersionNeed(file, name, (flags & WeakFlag) != 0), aux + 4));
                    aux += U32(bytes, aux + 12);
                }
                var next = U32(bytes, at + 12);
                if (next == 0) break;
                at += next;
            }
        }
        return result;
    }

    /// <summary>The sections of one type, each with the string table its <c>sh_link</c> names.</summary>
    private static IEnumerable<(Section Section, Section Strings)> Sections(byte[] bytes, string path, uint type)
    {
        if (bytes.Length < 64 || bytes[0] != 0x7f || bytes[1] != (byte)'E' || bytes[2] != (byte)'L' || bytes[3] != (byte)'F')
        {
            throw new InvalidDataException($"{Path.GetFileName(path)} is not an ELF file.");
        }
        if (bytes[4] != 2 || bytes[5] != 1) throw new InvalidDataException($"{Path.GetFileName(path)} is not a 64-bit little-endian ELF file.");
        var tableOffset = checked((int)BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(0x28)));
        var entrySize = U16(bytes, 0x3A);
        var count = U16(bytes, 0x3C);
        if (entrySize < 64) throw new InvalidDataException($"{Path.GetFileName(path)}: section header entries of {entrySize} bytes.");
        var sections = new Section[count];
        for (var i = 0; i < count; i++)
        {
            var at = tableOffset + i * entrySize;
            Check(bytes, at, 64, path);
            sections[i] = new Section(
                BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + 4)),
                checked((int)BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(at + 24))),
                checked((int)BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(at + 32))),
                U32(bytes, at + 40),
                U32(bytes, at + 44));
        }
        foreach (var section in sections.Where(s => s.Type == type))
        {
            Check(bytes, section.Offset, section.Size, path);
            if (section.Link >= sections.Length) throw new InvalidDataException($"{Path.GetFileName(path)}: a version section links to no string table.");
            yield return (section, sections[section.Link]);
        }
    }

    private static string ReadString(byte[] bytes, Section strings, int offset, string path)
    {
        if (offset < 0 || offset >= strings.Size) throw new InvalidDataException($"{Path.GetFileName(path)}: a version name lies outside its string table.");
        var start = strings.Offset + offset;
        var end = Array.IndexOf(bytes, (byte)0, start, strings.Offset + strings.Size - start);
        if (end < 0) throw new InvalidDataException($"{Path.GetFileName(path)}: an unterminated version name.");
        return Encoding.ASCII.GetString(bytes, start, end - start);
    }

    private static void Check(byte[] bytes, int offset, int length, string path)
    {
        if (offset < 0 || length < 0 || (long)offset + length > bytes.Length)
        {
            throw new InvalidDataException($"{Path.GetFileName(path)}: a version entry lies outside the file.");
        }
    }

    private static ushort U16(byte[] bytes, int offset) => BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(offset));

    private static int U32(byte[] bytes, int offset) => checked((int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(offset)));
}
