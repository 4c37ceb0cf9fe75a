namespace Acp.Engine.Execution;

/// <summary>Time spent per operator in forward and backward passes, accumulated while attached to a network.</summary>
public sealed class LayerProfile
{
    private readonly Dictionary<(string Op, bool Forward), TimeSpan> _times = [];

    /// <summary>Accumulated time per (operator, pass), largest first.</summary>
    public IEnumerable<(string Op, bool Forward, TimeSpan Time)> Entries =>
        _times.OrderByDescending(kv => kv.Value).Select(kv => (kv.Key.Op, kv.Key.Forward, kv.Value));

    internal void Add(string op, bool forward, TimeSpan elapsed) =>
        _times[(op, forward)] = _times.GetValueOrDefault((op, forward)) + elapsed;

    /// <inheritdoc/>
    public override string ToString() =>
        string.Join(Environment.NewLine, Entries.Select(e => $"{e.Op,-20} {(e.Forward ? "forward" : "backward"),-8} {e.Time.TotalMilliseconds,10:0.0} ms"));
}
