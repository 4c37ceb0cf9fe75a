using Acp.Engine.Kernels;

namespace Acp.Engine.Tests.Elementwise;

/// <summary>
/// Naive numpy broadcasting in double: walks every index of the result, maps it to each operand by clamping the
/// broadcast axes to 0, and accumulates gradients element by element.
/// </summary>
internal static class ReferenceBroadcast
{
    public static int[] ResultShape(int[] a, int[] b)
    {
        var rank = Math.Max(a.Length, b.Length);
        var y = new int[rank];
        for (var k = 0; k < rank; k++)
        {
            var da = k - (rank - a.Length) >= 0 ? a[k - (rank - a.Length)] : 1;
            var db = k - (rank - b.Length) >= 0 ? b[k - (rank - b.Length)] : 1;
            if (da != db && da != 1 && db != 1)
            {
                throw new ArgumentException("not broadcastable");
            }

            y[k] = da == 1 ? db : da;
        }

        return y;
    }

    /// <summary>The flat index into an operand of <paramref name="shape"/> for the result multi-index <paramref name="index"/>.</summary>
    public static int Source(int[] shape, int[] index)
    {
        var offset = 0;
        var lead = index.Length - shape.Length;
        for (var k = 0; k < shape.Length; k++)
        {
            offset = offset * shape[k] + (shape[k] == 1 ? 0 : index[lead + k]);
        }

        return offset;
    }

    /// <summary>Every multi-index of <paramref name="shape"/> in row-major order.</summary>
    public static IEnumerable<int[]> Indices(int[] shape)
    {
        var count = ElementwiseTestSupport.Count(shape);
        var index = new int[shape.Length];
        for (var flat = 0; flat < count; flat++)
        {
            var rest = flat;
            for (var k = shape.Length - 1; k >= 0; k--)
            {
                index[k] = rest % shape[k];
                rest /= shape[k];
            }

            yield return index;
        }
    }

    public static double Apply(BinaryOp op, double a, double b) => op switch
    {
        BinaryOp.Add => a + b,
        BinaryOp.Sub => a - b,
        BinaryOp.Mul => a * b,
        _ => a / b,
    };

    public static double[] Forward(BinaryOp op, int[] shapeA, double[] a, int[] shapeB, double[] b)
    {
        var shapeY = ResultShape(shapeA, shapeB);
        var y = new double[ElementwiseTestSupport.Count(shapeY)];
        var flat = 0;
        foreach (var index in Indices(shapeY))
        {
            y[flat++] = Apply(op, a[Source(shapeA, index)], b[Source(shapeB, index)]);
        }

        return y;
    }

    /// <summary>∂(Σ dy·y)/∂a and ∂/∂b, accumulated into the broadcast source elements.</summary>
    public static (double[] Da, double[] Db) Backward(BinaryOp op, int[] shapeA, double[] a, int[] shapeB, double[] b, double[] dy)
    {
        var shapeY = ResultShape(shapeA, shapeB);
        var da = new double[a.Length];
        var db = new double[b.Length];
        var flat = 0;
        foreach (var index in Indices(shapeY))
        {
            var ia = Source(shapeA, index);
            var ib = Source(shapeB, index);
            var g = dy[flat++];
            var (ga, gb) = op switch
            {
                BinaryOp.Add => (1.0, 1.0),
                BinaryOp.Sub => (1.0, -1.0),
                BinaryOp.Mul => (b[ib], a[ia]),
                _ => (1 / b[ib], -a[ia] / (b[ib] * b[ib])),
            };
            da[ia] += g * ga;
            db[ib] += g * gb;
        }

        return (da, db);
    }
}
