using System.Numerics.Tensors;
using Acp.Engine.Kernels;
using Acp.Onnx.Ir;

namespace Acp.Engine.Execution.Layers;

/// <summary>
/// Gemm (Y = α·op(A)·op(B) + β·C) and MatMul whose right operand is a matrix (A's leading dimensions are rows).
/// Rows of the output are independent, so forward and the input gradient run in parallel row blocks.
/// </summary>
internal sealed class MatrixLayer(Node node, ValueSlot?[] inputs, ValueSlot[] outputs) : Layer(node, inputs, outputs)
{
    private int _m, _n, _k;
    private bool _transA, _transB;
    private float _alpha = 1, _beta = 1;

    public override IEnumerable<int> LearnableInputs =>
        Enumerable.Range(0, Inputs.Length).Where(i => Inputs[i] is { IsPersistent: true, Constant.IsFloat: true } && (Node.OpType == "MatMul" || i > 0));

    private bool IsGemm => Node.OpType == "Gemm";

    public override void Plan()
    {
        var a = Input(0).Shape;
        var b = Input(1).Shape;
        if (b.Length != 2) throw Error($"the right operand must be a matrix; it is [{string.Join(",", b)}]");
        if (IsGemm)
        {
            _transA = Node.GetInt("transA", 0) != 0;
            _transB = Node.GetInt("transB", 0) != 0;
            _alpha = Node.GetFloat("alpha", 1f);
            _beta = OptionalInput(2) is null ? 0f : Node.GetFloat("beta", 1f);
            if (a.Length != 2) throw Error($"Gemm needs a matrix A; it is [{string.Join(",", a)}]");
            (_m, _k) = _transA ? (a[1], a[0]) : (a[0], a[1]);
        }
        else
        {
            if (a.Length < 2) throw Error($"a vector left operand [{string.Join(",", a)}] is not supported");
            _k = a[^1];
            _m = Input(0).Length / Math.Max(1, _k);
        }
        _n = _transB ? b[0] : b[1];
        var bk = _transB ? b[1] : b[0];
        if (bk != _k) throw Error($"inner dimensions differ: A has {_k} columns, B has {bk} rows");
    }

    public override void Forward(bool training)
    {
        var a = Input(0).Data;
        var b = Input(1).Data;
        var y = Outputs[0].Data;
        int lda = _transA ? _m : _k, ldb = _transB ? _k : _n;
        ForRowBlocks(_m, (start, count) => Gemm.Multiply(_transA, _transB, count, _n, _k, _alpha,
            _transA ? a.AsSpan(start) : a.AsSpan(start * lda), lda, b, ldb, 0f, y.AsSpan(start * _n, count * _n), _n));
        if (_beta != 0 && OptionalInput(2) is { } c)
        {
            // Scale C into a row-shaped buffer once, then let the broadcast kernel add it.
            Broadcast.Forward(BinaryOp.Add, [_m, _n], y, c.Shape, ScaledBias(c), [_m, _n], y);
        }
    }

    public override void Backward()
    {
        var dy = Outputs[0].ReadGradient();
        var a = Input(0).Data;
        var b = Input(1).Data;
        if (BeginInputGradient(0) is { } da)
        {
            if (!_transA)
            {
                ForRowBlocks(_m, (start, count) => Gemm.Multiply(false, !_transB, count, _k, _n, _alpha,
                    dy.AsSpan(start * _n), _n, b, _transB ? _k : _n, 0f, da.AsSpan(start * _k, count * _k), _k));
            }
            else
            {
                Gemm.Multiply(_transB, true, _k, _m, _n, _alpha, b, _transB ? _k : _n, dy, _n, 0f, da, _m);
            }
            EndInputGradient(0);
        }
        if (BeginInputGradient(1) is { } db)
        {
            if (!_transB) Gemm.Multiply(!_transA, false, _k, _n, _m, _alpha, a, _transA ? _m : _k, dy, _n, 0f, db, _n);
            else Gemm.Multiply(true, _transA, _n, _k, _m, _alpha, dy, _n, a, _transA ? _m : _k, 0f, db, _k);
            EndInputGradient(1);
        }
        if (_beta != 0 && BeginInputGradient(2) is { } dc)
        {
            var c = Input(2);
            Broadcast.Backward(BinaryOp.Add, [_m, _n], Outputs[0].Data, c.Shape, c.Data, [_m, _n], dy, null, dc);
            if (_beta != 1) TensorPrimitives.Multiply(dc, _beta, dc);
            EndInputGradient(2);
        }
    }

    private float[]? _scaledBias;

    private float[] ScaledBias(ValueSlot c)
    {
        if (_beta == 1) return c.Data;
        _scaledBias = _scaledBias is { } s && s.Length == c.Length ? s : new float[c.Length];
        TensorPrimitives.Multiply(c.Data, _beta, _scaledBias);
        return _scaledBias;
    }

    /// <summary>Splits rows into one block per core when the product is big enough to pay for the threads.</summary>
    private void ForRowBlocks(int rows, Action<int, int> body)
    {
        var work = (long)rows * _n * _k;
        var blocks = work < 1 << 18 ? 1 : Math.Min(rows, Environment.ProcessorCount);
        if (blocks <= 1)
        {
            body(0, rows);
            return;
        }
        Parallel.For(0, blocks, i =>
        {
            var start = (int)((long)rows * i / blocks);
            var end = (int)((long)rows * (i + 1) / blocks);
            if (end > start) body(start, end - start);
        });
    }
}
