using Acp.Engine.Kernels;
using Acp.Onnx.Ir;

namespace Acp.Engine.Execution.Layers;

/// <summary>ONNX Conv (2-D): any group count, stride, padding (explicit or auto_pad), dilation; bias optional.</summary>
internal sealed class ConvLayer(Node node, ValueSlot?[] inputs, ValueSlot[] outputs) : Layer(node, inputs, outputs)
{
    private ConvGeometry _geometry;
    private float[]? _frozenWeightScratch;

    public override IEnumerable<int> LearnableInputs => [1, 2];

    /// <summary>The kernel geometry of the current plan.</summary>
    public ConvGeometry Geometry => _geometry;

    public override void Plan()
    {
        var x = Input(0).Shape;
        var w = Input(1).Shape;
        var y = Outputs[0].Shape;
        if (x.Length != 4 || w.Length != 4) throw Error($"only 2-D convolution is supported; input is [{string.Join(",", x)}], weight [{string.Join(",", w)}]");
        var strides = Node.GetInts("strides") ?? [1, 1];
        var dilations = Node.GetInts("dilations") ?? [1, 1];
        var pads = AutoPad.Resolve(Node, x, y, [w[2], w[3]], strides, dilations);
        _geometry = new ConvGeometry(x[0], x[1], x[2], x[3], w[0], w[2], w[3], (int)strides[0], (int)strides[1],
            pads[0], pads[1], pads[2], pads[3], (int)dilations[0], (int)dilations[1], (int)Node.GetInt("group", 1));
        if (_geometry.OutHeight != y[2] || _geometry.OutWidth != y[3])
        {
            throw Error($"output is {_geometry.OutHeight}×{_geometry.OutWidth} by the kernel's geometry but {y[2]}×{y[3]} by shape inference");
        }
    }

    public override void Forward(bool training) =>
        Conv2d.Forward(_geometry, Input(0).Data, Input(1).Data, OptionalInput(2)?.Data, Outputs[0].Data);

    public override void Backward()
    {
        var dy = Outputs[0].ReadGradient();
        if (BeginInputGradient(0) is { } dx)
        {
            Conv2d.BackwardData(_geometry, dy, Input(1).Data, dx);
            EndInputGradient(0);
        }
        var dw = BeginInputGradient(1);
        var db = BeginInputGradient(2);
        if (dw is null && db is null) return;
        // The filter kernel computes both at once; a weight that needs no gradient still gets a scratch buffer.
        Conv2d.BackwardFilter(_geometry, Input(0).Data, dy, dw ?? (_frozenWeightScratch ??= new float[Input(1).Length]), db);
        if (dw is not null) EndInputGradient(1);
        if (db is not null) EndInputGradient(2);
    }
}
