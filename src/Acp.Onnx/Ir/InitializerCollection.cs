using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace Acp.Onnx.Ir;

/// <summary>Initializers by name, iterated in insertion order so that saved models are deterministic.</summary>
public sealed class InitializerCollection : IEnumerable<OnnxTensor>
{
    private readonly List<OnnxTensor> _ordered = [];
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);

    /// <summary>How many initializers there are.</summary>
    public int Count => _ordered.Count;

    /// <summary>The initializer called <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">There is none.</exception>
    public OnnxTensor this[string name] => TryGet(name, out var t) ? t : throw new KeyNotFoundException($"No initializer named '{name}'.");

    /// <summary>True when an initializer has this name.</summary>
    public bool Contains(string name) => _index.ContainsKey(name);

    /// <summary>Looks an initializer up by name.</summary>
    public bool TryGet(string name, [NotNullWhen(true)] out OnnxTensor? tensor)
    {
        tensor = _index.TryGetValue(name, out var i) ? _ordered[i] : null;
        return tensor is not null;
    }

    /// <summary>Adds a tensor under its name.</summary>
    /// <exception cref="ArgumentException">The name is taken.</exception>
    public void Add(OnnxTensor tensor)
    {
        if (!_index.TryAdd(tensor.Name, _ordered.Count))
        {
            throw new ArgumentException($"An initializer named '{tensor.Name}' already exists.", nameof(tensor));
        }
        _ordered.Add(tensor);
    }

    /// <summary>Replaces the tensor with the same name, keeping its position, or adds it.</summary>
    public void Set(OnnxTensor tensor)
    {
        if (_index.TryGetValue(tensor.Name, out var i)) _ordered[i] = tensor;
        else Add(tensor);
    }

    /// <summary>Removes the initializer called <paramref name="name"/>; returns false when there is none.</summary>
    public bool Remove(string name)
    {
        if (!_index.Remove(name, out var i)) return false;
        _ordered.RemoveAt(i);
        for (var k = i; k < _ordered.Count; k++) _index[_ordered[k].Name] = k;
        return true;
    }

    /// <inheritdoc/>
    public IEnumerator<OnnxTensor> GetEnumerator() => _ordered.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
