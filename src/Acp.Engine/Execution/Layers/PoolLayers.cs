using Acp.Engine.Kernels;
using Acp.Onnx.Ir;

namespace Acp.Engine.Execution.Layers;

/// <summary>MaxPool and AveragePool (2-D, pads, strides, dilations, ceil_mode, count_include_pad).</summary>
internal sealed class PoolLayer(Node node, ValueSlot?[] inputs, ValueSlot[] outputs) : Layer(node, inputs, outputs)
{
    private PoolGeometry _geometry;
    private int[] _argmax = [];

    private bool IsMax => Node.OpType == "MaxPool";

    public override void Plan()
    {
        var x = Input(0).Shape;
        var y = Outputs[0].Shape;
        if (x.Length != 4) throw Error($"only 2-D pooling is supported; input is [{string.Join(",", x)}]");
        if (IsMax && Outputs.Length > 1) throw Error("the Indices output of MaxPool is not supported");
        var kernel = Node.GetInts("kernel_shape") ?? throw Error("kernel_shape is required");
        var strides = Node.GetInts("strides") ?? [1, 1];
        var dilations = Node.GetInts("dilations") ?? [1, 1];
        var pads = AutoPad.Resolve(Node, x, y, kernel, strides, dilations);
        _geometry = new PoolGeometry(x[0], x[1], x[2], x[3], (int)kernel[0], (int)kernel[1], (int)strides[0], (int)strides[1],
            pads[0], pads[1], pads[2], pads[3], (int)dilations[0], (int)dilations[1],
            Node.GetInt("ceil_mode", 0) != 0, Node.GetInt("count_include_pad", 0) != 0);
        if (_geometry.OutHeight != y[2] || _geometry.OutWidth != y[3])
        {
            throw Error($"output is {_geometry.OutHeight}×{_geometry.OutWidth} by the kernel's geometry but {y[2]}×{y[3]} by shape inference");
        }
        if (IsMax && _argmax.Length != Outputs[0].Length) _argmax = new int[Outputs[0].Length];
    }

    public override void Forward(bool training)
    {
        if (IsMax) Pooling.MaxForward(_geometry, Input(0).Data, Outputs[0].Data, _argmax);
        else Pooling.AverageForward(_geometry, Input(0).Data, Outputs[0].Data);
    }

    public override void Backward()
    {
        if (BeginInputGradient(0) is not { } dx) return;
        var dy = Outputs[0].ReadGradient();
        if (IsMax) Pooling.MaxBackward(_geometry, dy, _argmax, dx);
        else Pooling.AverageBackward(_geometry, dy, dx);
        EndInputGradient(0);
    }
}

/// <summary>GlobalAveragePool: the mean over all spatial positions of each channel.</summary>
internal sealed class GlobalAveragePoolLayer(Node node, ValueSlot?[] inputs, ValueSlot[] outputs) : Layer(node, inputs, outputs)
{
    private int _n, _c, _hw;

    public override void Plan()
    {
        var x = Input(0).Shape;
        _n = x[0];
        _c = x[1];
        _hw = Input(0).Length / Math.Max(1, _n * _c);
    }

    public override void Forward(bool training) => Pooling.GlobalAverageForward(_n, _c, _hw, Input(0).Data, Outputs[0].Data);

    public override void Backward()
    {
        if (BeginInputGradient(0) is not { } dx) return;
        Pooling.GlobalAverageBackward(_n, _c, _hw, Outputs[0].ReadGradient(), dx);
        EndInputGradient(0);
    }
}
