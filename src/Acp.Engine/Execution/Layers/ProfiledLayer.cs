using System.Diagnostics;

namespace Acp.Engine.Execution.Layers;

/// <summary>
/// A layer of a pass that adds its forward and backward time to a <see cref="LayerProfile"/>, under the layer's
/// <see cref="Layer.OpName"/>. The plan wraps every layer in one when a profile is attached, so the executor has no
/// profiling branch and an unprofiled pass pays nothing.
/// </summary>
internal sealed class ProfiledLayer(Layer inner, LayerProfile profile) : Layer(inner.Node, inner.Inputs, inner.Outputs)
{
    public override string OpName => inner.OpName;

    public override void Forward(bool training)
    {
        var started = Stopwatch.GetTimestamp();
        inner.Forward(training);
        profile.Add(inner.OpName, forward: true, Stopwatch.GetElapsedTime(started));
    }

    public override void Backward()
    {
        var started = Stopwatch.GetTimestamp();
        inner.Backward();
        profile.Add(inner.OpName, forward: false, Stopwatch.GetElapsedTime(started));
    }
}
