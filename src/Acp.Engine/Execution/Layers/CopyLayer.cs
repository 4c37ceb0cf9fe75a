using Acp.Onnx.Ir;

namespace Acp.Engine.Execution.Layers;

/// <summary>
/// Operators that only reinterpret the shape (Reshape, Flatten, Squeeze, Unsqueeze, Identity) and Dropout, which is
/// the identity at inference and inverted dropout in training. The data are copied, not aliased, so that hooks and
/// masks on either value never see each other's changes.
/// </summary>
internal sealed class CopyLayer(Node node, ValueSlot?[] inputs, ValueSlot[] outputs, Random random) : Layer(node, inputs, outputs)
{
    public static readonly string[] Operators = ["Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Dropout"];

    private float[] _dropoutScale = [];

    public override long BufferBytes => sizeof(float) * (long)_dropoutScale.Length;

    public override void ReleaseBuffers() => _dropoutScale = [];
    private bool _droppedOut;

    public override void Plan()
    {
        if (Input(0).Length != Outputs[0].Length)
        {
            throw Error($"input has {Input(0).Length} elements but output [{string.Join(",", Outputs[0].Shape)}] has {Outputs[0].Length}");
        }
        if (Outputs.Length > 1 && Node.OpType == "Dropout")
        {
            throw Error("Dropout's mask output is not supported");
        }
    }

    public override void Forward(bool training)
    {
        var x = Input(0).Data;
        var y = Outputs[0].Data;
        _droppedOut = training && Node.OpType == "Dropout" && DropoutRatio() > 0;
        if (!_droppedOut)
        {
            x.AsSpan().CopyTo(y);
            return;
        }
        var ratio = DropoutRatio();
        if (_dropoutScale.Length != x.Length) _dropoutScale = new float[x.Length];
        var keep = 1f / (1f - ratio);
        for (var i = 0; i < x.Length; i++)
        {
            _dropoutScale[i] = random.NextSingle() < ratio ? 0f : keep;
            y[i] = x[i] * _dropoutScale[i];
        }
    }

    public override void Backward()
    {
        if (BeginInputGradient(0) is not { } dx) return;
        var dy = Outputs[0].ReadGradient();
        if (_droppedOut) System.Numerics.Tensors.TensorPrimitives.Multiply(dy, _dropoutScale, dx);
        else dy.AsSpan().CopyTo(dx);
        EndInputGradient(0);
    }

    /// <summary>The drop probability: an attribute before opset 12, an optional constant input since.</summary>
    private float DropoutRatio() => ConstantScalar(1) ?? Node.GetFloat("ratio", 0.5f);
}
