using Acp.Engine.Kernels;
using Acp.Onnx.Ir;

namespace Acp.Engine.Execution.Layers;

/// <summary>Add, Sub, Mul, Div with numpy broadcasting: residual joins and per-channel scales or shifts.</summary>
internal sealed class BinaryLayer(Node node, ValueSlot?[] inputs, ValueSlot[] outputs) : Layer(node, inputs, outputs)
{
    private BinaryOp _op;

    public static readonly string[] Operators = ["Add", "Sub", "Mul", "Div"];

    /// <summary>A float initializer of more than one element is a learned scale or shift (nn.Linear's bias after MatMul).</summary>
    public override IEnumerable<int> LearnableInputs =>
        Enumerable.Range(0, 2).Where(i => Inputs[i] is { IsPersistent: true, Constant: { IsFloat: true, ElementCount: > 1 } });

    public override void Plan() => _op = Node.OpType switch
    {
        "Add" => BinaryOp.Add,
        "Sub" => BinaryOp.Sub,
        "Mul" => BinaryOp.Mul,
        _ => BinaryOp.Div,
    };

    public override void Forward(bool training)
    {
        Broadcast.Forward(_op, Input(0).Shape, Input(0).Data, Input(1).Shape, Input(1).Data, Outputs[0].Shape, Outputs[0].Data);
    }

    /// <summary>
    /// True when this node can run fused with a following Relu in training: an Add of two distinct values of the
    /// output's shape (a residual join; broadcasting Adds run apart).
    /// </summary>
    public bool CanFuseRelu =>
        _op == BinaryOp.Add && Inputs[0] is { } a && Inputs[1] is { } b && !ReferenceEquals(a, b) &&
        a.Shape.AsSpan().SequenceEqual(Outputs[0].Shape) && b.Shape.AsSpan().SequenceEqual(Outputs[0].Shape);

    /// <summary>
    /// Training forward of this Add and the Relu that is its output's only consumer, in one pass: writes max(0, a + b)
    /// into <paramref name="reluOutput"/> and leaves this node's own output unwritten. The backward pass must then go
    /// through <see cref="BackwardThroughRelu"/> (see <see cref="AddReluLayer"/>).
    /// </summary>
    public void ForwardWithRelu(ValueSlot reluOutput) =>
        ResidualRelu.Forward(reluOutput.Length, Input(0).Data, Input(1).Data, reluOutput.Data);

    /// <summary>Backward of the fused Add → Relu: both operand gradients are the Relu's gradient gated by its output.</summary>
    public void BackwardThroughRelu(ValueSlot reluOutput)
    {
        var da = BeginInputGradient(0);
        var db = BeginInputGradient(1);
        if (da is null && db is null) return;
        ResidualRelu.Backward(reluOutput.Length, reluOutput.Data, reluOutput.ReadGradient(), da, db);
        if (da is not null) EndInputGradient(0);
        if (db is not null) EndInputGradient(1);
    }

    public override void Backward()
    {
        if (ReferenceEquals(Inputs[0], Inputs[1]))
        {
            BackwardOfSquare();
            return;
        }
        var da = BeginInputGradient(0);
        var db = BeginInputGradient(1);
        if (da is null && db is null) return;
        Broadcast.Backward(_op, Input(0).Shape, Input(0).Data, Input(1).Shape, Input(1).Data, Outputs[0].Shape, Outputs[0].ReadGradient(), da, db);
        if (da is not null) EndInputGradient(0);
        if (db is not null) EndInputGradient(1);
    }

    private float[]? _secondOperandScratch;

    public override long BufferBytes => sizeof(float) * (long)(_secondOperandScratch?.Length ?? 0);

    public override void ReleaseBuffers() => _secondOperandScratch = null;

    /// <summary>x ⊕ x: both operand gradients belong to one value, so they are computed apart and then summed.</summary>
    private void BackwardOfSquare()
    {
        if (BeginInputGradient(0) is not { } dx) return;
        var x = Input(0);
        var second = _secondOperandScratch is { } s && s.Length == x.Length ? s : _secondOperandScratch = new float[x.Length];
        Broadcast.Backward(_op, x.Shape, x.Data, x.Shape, x.Data, Outputs[0].Shape, Outputs[0].ReadGradient(), dx, second);
        System.Numerics.Tensors.TensorPrimitives.Add(dx, second, dx);
        EndInputGradient(0);
    }
}
