using Acp.Onnx.Format;

namespace Acp.Onnx.Ir;

/// <summary>
/// One operator application. Inputs and outputs are value names; an empty name marks an optional input or output
/// that is left out.
/// </summary>
public sealed class Node
{
    /// <summary>Creates a node of the default ONNX domain unless <paramref name="domain"/> says otherwise.</summary>
    public Node(string name, string opType, IEnumerable<string> inputs, IEnumerable<string> outputs, IEnumerable<NodeAttribute>? attributes = null, string domain = "")
    {
        Name = name;
        OpType = opType;
        Domain = domain;
        Inputs = inputs.ToList();
        Outputs = outputs.ToList();
        Attributes = attributes?.ToList() ?? [];
    }

    /// <summary>The node's name; may be empty in models that do not name nodes.</summary>
    public string Name { get; set; }

    /// <summary>The operator, e.g. "Conv".</summary>
    public string OpType { get; set; }

    /// <summary>The operator set domain; empty (or "ai.onnx") for standard ONNX operators.</summary>
    public string Domain { get; set; }

    /// <summary>Names of the input values, in the operator's input order.</summary>
    public List<string> Inputs { get; }

    /// <summary>Names of the output values.</summary>
    public List<string> Outputs { get; }

    /// <summary>The attributes in the order they were written.</summary>
    public List<NodeAttribute> Attributes { get; }

    /// <summary>True for operators of the standard ONNX domain.</summary>
    public bool IsStandard => Domain is "" or "ai.onnx";

    /// <summary>A name for messages: the node's name, or its op type and first output when unnamed.</summary>
    public string DisplayName => Name.Length > 0 ? Name : $"{OpType}->{Outputs.FirstOrDefault() ?? "?"}";

    internal NodeProto? Source { get; init; }

    /// <summary>The attribute called <paramref name="name"/>, or null.</summary>
    public NodeAttribute? Attribute(string name) => Attributes.Find(a => a.Name == name);

    /// <summary>An INT attribute's value, or <paramref name="fallback"/> when absent.</summary>
    public long GetInt(string name, long fallback) => Attribute(name) is { } a ? a.Int : fallback;

    /// <summary>A FLOAT attribute's value, or <paramref name="fallback"/> when absent.</summary>
    public float GetFloat(string name, float fallback) => Attribute(name) is { } a ? a.Float : fallback;

    /// <summary>A STRING attribute's value, or <paramref name="fallback"/> when absent.</summary>
    public string GetString(string name, string fallback) => Attribute(name) is { } a ? a.String : fallback;

    /// <summary>An INTS attribute's values, or null when absent.</summary>
    public long[]? GetInts(string name) => Attribute(name)?.Ints;

    /// <summary>Adds or replaces an attribute, keeping the position of a replaced one.</summary>
    public void SetAttribute(NodeAttribute attribute)
    {
        var index = Attributes.FindIndex(a => a.Name == attribute.Name);
        if (index >= 0) Attributes[index] = attribute;
        else Attributes.Add(attribute);
    }

    /// <summary>The input at <paramref name="index"/>, or null when absent or left out.</summary>
    public string? InputAt(int index) => index < Inputs.Count && Inputs[index].Length > 0 ? Inputs[index] : null;

    /// <summary>A copy whose lists can be changed without touching this node.</summary>
    public Node Clone() => new(Name, OpType, Inputs, Outputs, Attributes, Domain) { Source = Source };

    /// <inheritdoc/>
    public override string ToString() => $"{DisplayName} = {OpType}({string.Join(", ", Inputs)}) -> {string.Join(", ", Outputs)}";

    internal static Node FromProto(NodeProto proto, TensorSource source) =>
        new(proto.Name, proto.OpType, proto.Input, proto.Output, proto.Attribute.Select(a => NodeAttribute.FromProto(a, source)), proto.Domain) { Source = proto };

    internal NodeProto ToProto()
    {
        var proto = Source?.Clone() ?? new NodeProto();
        proto.Name = Name;
        proto.OpType = OpType;
        proto.Domain = Domain;
        proto.Input.Clear();
        proto.Input.Add(Inputs);
        proto.Output.Clear();
        proto.Output.Add(Outputs);
        proto.Attribute.Clear();
        proto.Attribute.Add(Attributes.Select(a => a.ToProto()));
        return proto;
    }
}
