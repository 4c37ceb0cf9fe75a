using System.Text;

namespace Acp.Onnx.Channels;

/// <summary>How one group's width changed.</summary>
/// <param name="GroupId">The group.</param>
/// <param name="Width">Channels before.</param>
/// <param name="KeptWidth">Channels after.</param>
public sealed record GroupWidthChange(int GroupId, int Width, int KeptWidth);

/// <summary>What <see cref="ChannelSurgery"/> did: widths per group, groups left intact and why, and the constants and nodes it touched.</summary>
public sealed class ChannelSurgeryReport
{
    internal ChannelSurgeryReport(IReadOnlyList<GroupWidthChange> groups, IReadOnlyList<ChannelGroup> fenced, IReadOnlyList<string> changedInPlace,
        IReadOnlyList<ConstantCopy> copies, IReadOnlyList<string> added, IReadOnlyList<string> removedNodes, IReadOnlyList<string> removedInitializers)
    {
        Groups = groups;
        FencedGroups = fenced;
        ChangedInPlace = changedInPlace;
        Copies = copies;
        AddedInitializers = added;
        RemovedNodes = removedNodes;
        RemovedInitializers = removedInitializers;
    }

    /// <summary>Every group the plan named, with its width before and after.</summary>
    public IReadOnlyList<GroupWidthChange> Groups { get; }

    /// <summary>Groups left intact because they are fenced (their reasons are on each group).</summary>
    public IReadOnlyList<ChannelGroup> FencedGroups { get; }

    /// <summary>Constants sliced or rewritten in place (every reader wanted the same change).</summary>
    public IReadOnlyList<string> ChangedInPlace { get; }

    /// <summary>Constants copied because a reader outside the pruned groups needs the original.</summary>
    public IReadOnlyList<ConstantCopy> Copies { get; }

    /// <summary>Initializers added (split sizes an equal split used to leave out).</summary>
    public IReadOnlyList<string> AddedInitializers { get; }

    /// <summary>Nodes removed because nothing reads them any more (Identity chains whose readers now read a copy).</summary>
    public IReadOnlyList<string> RemovedNodes { get; }

    /// <summary>Initializers removed because nothing reads them any more.</summary>
    public IReadOnlyList<string> RemovedInitializers { get; }

    /// <summary>Group channels removed in all.</summary>
    public int ChannelsRemoved => Groups.Sum(g => g.Width - g.KeptWidth);

    /// <summary>True when the model came back unchanged.</summary>
    public bool IsUnchanged => ChannelsRemoved == 0 && ChangedInPlace.Count == 0 && Copies.Count == 0 && AddedInitializers.Count == 0;

    /// <summary>A few lines for people.</summary>
    public override string ToString()
    {
        var pruned = Groups.Where(g => g.KeptWidth < g.Width).ToList();
        var text = new StringBuilder();
        text.Append(pruned.Count).Append(" of ").Append(Groups.Count).Append(" planned groups pruned, ").Append(ChannelsRemoved).Append(" channels removed; ")
            .Append(FencedGroups.Count).AppendLine(" fenced groups left intact");
        foreach (var g in pruned) text.Append("  group ").Append(g.GroupId).Append(": ").Append(g.Width).Append(" → ").Append(g.KeptWidth).AppendLine();
        foreach (var g in FencedGroups) text.Append("  ").AppendLine(g.ToString());
        if (ChangedInPlace.Count > 0) text.Append("  constants changed in place: ").Append(ChangedInPlace.Count).AppendLine();
        foreach (var copy in Copies) text.Append("  copied (shared with an unpruned reader): ").AppendLine(copy.ToString());
        foreach (var name in AddedInitializers) text.Append("  added: ").AppendLine(name);
        foreach (var name in RemovedNodes) text.Append("  removed node: ").AppendLine(name);
        foreach (var name in RemovedInitializers) text.Append("  removed initializer: ").AppendLine(name);
        return text.ToString();
    }
}
