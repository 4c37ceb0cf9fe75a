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

    public override void Forward(bool training) =>
        Broadcast.Forward(_op, Input(0).Shape, Input(0).Data, Input(1).Shape, Input(1).Data, Outputs[0].Shape, Outputs[0].Data);

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
