using System.IO.Compression;
using System.Xml.Linq;

namespace Acp.Packaging.Tests.Support;

/// <summary>A package dependency as its nuspec states it.</summary>
/// <param name="Id">The package it depends on.</param>
/// <param name="Version">The version range, as written.</param>
/// <param name="TargetFramework">The dependency group's framework.</param>
public sealed record PackageDependency(string Id, string Version, string TargetFramework);

/// <summary>
/// A .nupkg opened as the zip file it is: its nuspec metadata read with plain XML (the nuspec namespace differs between
/// package kinds, so elements are matched by local name) and its file list.
/// </summary>
public sealed class NuGetPackage
{
    private readonly XElement _metadata;

    private NuGetPackage(string path, XElement metadata, IReadOnlyList<string> files, IReadOnlyDictionary<string, byte[]> contents)
    {
        FilePath = path;
        _metadata = metadata;
        Files = files;
        Contents = contents;
    }

    /// <summary>Where the package file is.</summary>
    public string FilePath { get; }

    /// <summary>Every entry of the zip, with forward slashes.</summary>
    public IReadOnlyList<string> Files { get; }

    /// <summary>The bytes of every entry, by name.</summary>
    public IReadOnlyDictionary<string, byte[]> Contents { get; }

    /// <summary>&lt;id&gt;.</summary>
    public string Id => Text("id");

    /// <summary>&lt;version&gt;.</summary>
    public string Version => Text("version");

    /// <summary>&lt;authors&gt;.</summary>
    public string Authors => Text("authors");

    /// <summary>&lt;description&gt;.</summary>
    public string Description => Text("description");

    /// <summary>&lt;readme&gt;: the path of the readme inside the package.</summary>
    public string Readme => Text("readme");

    /// <summary>&lt;tags&gt;, split on spaces.</summary>
    public IReadOnlyList<string> Tags => Text("tags").Split(' ', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>&lt;license&gt;'s type attribute and text.</summary>
    public (string Type, string Value) License =>
        Element("license") is { } license ? ((string?)license.Attribute("type") ?? "", license.Value) : ("", "");

    /// <summary>The names in &lt;packageTypes&gt;; empty for an ordinary library package.</summary>
    public IReadOnlyList<string> PackageTypes =>
        Descendants("packageType").Select(t => (string?)t.Attribute("name") ?? "").ToList();

    /// <summary>Every &lt;dependency&gt; of every group.</summary>
    public IReadOnlyList<PackageDependency> Dependencies =>
        Descendants("group").SelectMany(g => g.Elements().Where(e => e.Name.LocalName == "dependency")
                .Select(d => new PackageDependency((string?)d.Attribute("id") ?? "", (string?)d.Attribute("version") ?? "", (string?)g.Attribute("targetFramework") ?? "")))
            .ToList();

    /// <summary>Reads the package at <paramref name="path"/>.</summary>
    /// <exception cref="InvalidDataException">It is not a zip, or holds no nuspec at its root.</exception>
    public static NuGetPackage Open(string path)
    {
        using var zip = ZipFile.OpenRead(path);
        var contents = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var entry in zip.Entries)
        {
            using var stream = entry.Open();
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            contents[entry.FullName.Replace('\\', '/')] = copy.ToArray();
        }
        var nuspecs = contents.Keys.Where(n => !n.Contains('/') && n.EndsWith(".nuspec", StringComparison.OrdinalIgnoreCase)).ToList();
        if (nuspecs.Count != 1) throw new InvalidDataException($"{path} holds {nuspecs.Count} nuspec files at its root; a package has exactly one.");
        using var nuspec = new MemoryStream(contents[nuspecs[0]]);
        var metadata = XDocument.Load(nuspec).Root?.Elements().FirstOrDefault(e => e.Name.LocalName == "metadata")
            ?? throw new InvalidDataException($"{path}: {nuspecs[0]} has no <metadata>.");
        return new NuGetPackage(path, metadata, contents.Keys.Order(StringComparer.Ordinal).ToList(), contents);
    }

    private XElement? Element(string name) => _metadata.Elements().FirstOrDefault(e => e.Name.LocalName == name);

    private IEnumerable<XElement> Descendants(string name) => _metadata.Descendants().Where(e => e.Name.LocalName == name);

    private string Text(string name) => Element(name)?.Value ?? "";
}
