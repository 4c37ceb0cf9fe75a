using Acp.Onnx.Ir;

namespace Acp.Engine.Execution.Layers;

/// <summary>
/// The block layout shared by Concat and Split: along an axis, a tensor is "outer" blocks each holding every part's
/// run of (size along axis × inner) elements, one after the other.
/// </summary>
internal readonly record struct AxisBlocks(int Outer, int Inner, int[] Sizes)
{
    public static AxisBlocks Of(int[] whole, int axis, IEnumerable<int[]> parts)
    {
        var outer = 1;
        for (var d = 0; d < axis; d++) outer *= whole[d];
        var inner = 1;
        for (var d = axis + 1; d < whole.Length; d++) inner *= whole[d];
        return new AxisBlocks(outer, inner, parts.Select(p => p[axis]).ToArray());
    }

    /// <summary>Copies between the whole tensor and its parts, in either direction.</summary>
    public void Copy(float[] whole, IReadOnlyList<float[]?> parts, bool toWhole)
    {
        var total = Sizes.Sum() * Inner;
        var offset = 0;
        for (var p = 0; p < Sizes.Length; p++)
        {
            var run = Sizes[p] * Inner;
            if (parts[p] is { } part)
            {
                for (var o = 0; o < Outer; o++)
                {
                    if (toWhole) Array.Copy(part, o * run, whole, o * total + offset, run);
                    else Array.Copy(whole, o * total + offset, part, o * run, run);
                }
            }
            offset += run;
        }
    }
}

/// <summary>Concat along any axis (DenseNet's feature reuse, inception branches).</summary>
internal sealed class ConcatLayer(Node node, ValueSlot?[] inputs, ValueSlot[] outputs) : Layer(node, inputs, outputs)
{
    private AxisBlocks _blocks;
    private float[]?[] _parts = [];

    public override void Plan()
    {
        var y = Outputs[0].Shape;
        var axis = (int)Node.GetInt("axis", 1);
        if (axis < 0) axis += y.Length;
        _blocks = AxisBlocks.Of(y, axis, Inputs.Select((s, i) => Input(i).Shape));
        _parts = new float[]?[Inputs.Length];
    }

    public override void Forward(bool training)
    {
        for (var i = 0; i < Inputs.Length; i++) _parts[i] = Input(i).Data;
        _blocks.Copy(Outputs[0].Data, _parts, toWhole: true);
    }

    public override void Backward()
    {
        // The same value may be concatenated twice; each occurrence contributes through its own begin/end pair.
        var dy = Outputs[0].ReadGradient();
        for (var i = 0; i < Inputs.Length; i++)
        {
            Array.Fill(_parts, null);
            if (BeginInputGradient(i) is not { } dx) continue;
            _parts[i] = dx;
            _blocks.Copy(dy, _parts, toWhole: false);
            EndInputGradient(i);
        }
    }
}

/// <summary>Split along any axis into the sizes shape inference worked out (explicit, or equal parts).</summary>
internal sealed class SplitLayer(Node node, ValueSlot?[] inputs, ValueSlot[] outputs) : Layer(node, inputs, outputs)
{
    private AxisBlocks _blocks;
    private float[]?[] _parts = [];

    public override void Plan()
    {
        var x = Input(0).Shape;
        var axis = (int)Node.GetInt("axis", 0);
        if (axis < 0) axis += x.Length;
        _blocks = AxisBlocks.Of(x, axis, Outputs.Select(o => o.Shape));
        _parts = new float[]?[Outputs.Length];
    }

    public override void Forward(bool training)
    {
        for (var i = 0; i < Outputs.Length; i++) _parts[i] = Outputs[i].Data;
        _blocks.Copy(Input(0).Data, _parts, toWhole: false);
    }

    public override void Backward()
    {
        if (BeginInputGradient(0) is not { } dx) return;
        for (var i = 0; i < Outputs.Length; i++) _parts[i] = Outputs[i].ReadGradient();
        _blocks.Copy(dx, _parts, toWhole: true);
        EndInputGradient(0);
    }
}
