using Acp.Onnx.Ir;

namespace Acp.Engine.Execution.Layers;

/// <summary>
/// Operators whose output element i is input element map[i] (or a constant where map[i] is −1): Slice, Transpose,
/// Pad (constant, reflect, edge). The map is built once per plan from the shapes, so every such op shares one
/// forward (a gather) and one backward (a scatter-add), both exact.
/// </summary>
internal sealed class IndexMapLayer(Node node, ValueSlot?[] inputs, ValueSlot[] outputs) : Layer(node, inputs, outputs)
{
    public static readonly string[] Operators = ["Slice", "Transpose", "Pad"];

    private int[] _map = [];
    private float _fill;

    public override void Plan()
    {
        var x = Input(0).Shape;
        var y = Outputs[0].Shape;
        _map = new int[Outputs[0].Length];
        var inStrides = Strides(x);
        var index = new int[y.Length];
        Func<int[], int> source = Node.OpType switch
        {
            "Transpose" => TransposeSource(x, inStrides),
            "Slice" => SliceSource(x, inStrides),
            _ => PadSource(x, inStrides),
        };
        for (var i = 0; i < _map.Length; i++)
        {
            _map[i] = source(index);
            for (var d = y.Length - 1; d >= 0; d--)
            {
                if (++index[d] < y[d]) break;
                index[d] = 0;
            }
        }
    }

    public override void Forward(bool training)
    {
        var x = Input(0).Data;
        var y = Outputs[0].Data;
        for (var i = 0; i < y.Length; i++) y[i] = _map[i] >= 0 ? x[_map[i]] : _fill;
    }

    public override void Backward()
    {
        if (BeginInputGradient(0) is not { } dx) return;
        var dy = Outputs[0].ReadGradient();
        Array.Clear(dx);
        for (var i = 0; i < dy.Length; i++)
        {
            if (_map[i] >= 0) dx[_map[i]] += dy[i];
        }
        EndInputGradient(0);
    }

    private static int[] Strides(int[] shape)
    {
        var strides = new int[shape.Length];
        var stride = 1;
        for (var d = shape.Length - 1; d >= 0; d--)
        {
            strides[d] = stride;
            stride *= shape[d];
        }
        return strides;
    }

    private Func<int[], int> TransposeSource(int[] x, int[] inStrides)
    {
        var perm = Node.GetInts("perm") ?? Enumerable.Range(0, x.Length).Reverse().Select(i => (long)i).ToArray();
        return index =>
        {
            var offset = 0;
            for (var d = 0; d < index.Length; d++) offset += index[d] * inStrides[perm[d]];
            return offset;
        };
    }

    private Func<int[], int> SliceSource(int[] x, int[] inStrides)
    {
        // Opset 10+ gives starts, ends, axes, steps as inputs; opset 1 as attributes.
        var starts = ConstantInts(1) ?? Node.GetInts("starts") ?? throw Error("starts are missing");
        var ends = ConstantInts(2) ?? Node.GetInts("ends") ?? throw Error("ends are missing");
        var axes = ConstantInts(3) ?? Node.GetInts("axes") ?? Enumerable.Range(0, starts.Length).Select(i => (long)i).ToArray();
        var steps = ConstantInts(4) ?? Enumerable.Repeat(1L, starts.Length).ToArray();
        var begin = new int[x.Length];
        var step = Enumerable.Repeat(1, x.Length).ToArray();
        for (var i = 0; i < axes.Length; i++)
        {
            var axis = (int)(axes[i] < 0 ? axes[i] + x.Length : axes[i]);
            var dim = x[axis];
            var s = starts[i] < 0 ? starts[i] + dim : starts[i];
            step[axis] = (int)steps[i];
            begin[axis] = (int)(steps[i] > 0 ? Math.Clamp(s, 0, dim) : Math.Clamp(s, 0, dim - 1));
        }
        return index =>
        {
            var offset = 0;
            for (var d = 0; d < index.Length; d++) offset += (begin[d] + index[d] * step[d]) * inStrides[d];
            return offset;
        };
    }

    private Func<int[], int> PadSource(int[] x, int[] inStrides)
    {
        var pads = ConstantInts(1) ?? Node.GetInts("pads") ?? throw Error("pads are missing");
        var rank = x.Length;
        var before = new long[rank];
        if (ConstantInts(3) is { } axes)
        {
            for (var i = 0; i < axes.Length; i++) before[(int)(axes[i] < 0 ? axes[i] + rank : axes[i])] = pads[i];
        }
        else
        {
            for (var d = 0; d < rank; d++) before[d] = pads[d];
        }
        _fill = ConstantScalar(2) ?? Node.GetFloat("value", 0f);
        var mode = Node.GetString("mode", "constant");
        return index =>
        {
            var offset = 0;
            for (var d = 0; d < rank; d++)
            {
                var i = index[d] - (int)before[d];
                if (i < 0 || i >= x[d])
                {
                    if (mode == "constant") return -1;
                    i = mode == "edge" ? Math.Clamp(i, 0, x[d] - 1) : Reflect(i, x[d]);
                }
                offset += i * inStrides[d];
            }
            return offset;
        };
    }

    private static int Reflect(int i, int n)
    {
        if (n == 1) return 0;
        var period = 2 * (n - 1);
        i = ((i % period) + period) % period;
        return i < n ? i : period - i;
    }
}
