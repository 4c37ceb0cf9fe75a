using Acp.Engine.Kernels;
using Acp.Onnx.Ir;

namespace Acp.Engine.Execution.Layers;

/// <summary>Softmax over the last axis (the class axis of classifier outputs).</summary>
internal sealed class SoftmaxLayer(Node node, ValueSlot?[] inputs, ValueSlot[] outputs) : Layer(node, inputs, outputs)
{
    private int _rows, _classes;

    public override void Plan()
    {
        var x = Input(0).Shape;
        // Opset 13 normalises along one axis (default −1); earlier opsets flatten from axis (default 1) onwards.
        // Both coincide with "the last axis" exactly when the chosen axis is the last one or the trailing dims are 1.
        var axis = (int)Node.GetInt("axis", Node.Attribute("axis") is null && x.Length == 2 ? 1 : -1);
        if (axis < 0) axis += x.Length;
        var trailing = 1;
        for (var d = axis + 1; d < x.Length; d++) trailing *= x[d];
        if (trailing != 1) throw Error($"softmax over axis {axis} of [{string.Join(",", x)}] is not supported; only the last axis");
        _classes = x[axis];
        _rows = Input(0).Length / Math.Max(1, _classes);
    }

    public override void Forward(bool training) => Losses.Softmax(_rows, _classes, Input(0).Data, Outputs[0].Data);

    public override void Backward()
    {
        if (BeginInputGradient(0) is not { } dx) return;
        var y = Outputs[0].Data;
        var dy = Outputs[0].ReadGradient();
        // dx = y ⊙ (dy − Σ_j dy_j y_j), row by row.
        for (var r = 0; r < _rows; r++)
        {
            var row = r * _classes;
            var dot = 0.0;
            for (var j = 0; j < _classes; j++) dot += dy[row + j] * y[row + j];
            for (var j = 0; j < _classes; j++) dx[row + j] = (float)(y[row + j] * (dy[row + j] - dot));
        }
        EndInputGradient(0);
    }
}
