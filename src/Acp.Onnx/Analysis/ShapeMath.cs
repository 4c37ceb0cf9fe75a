namespace Acp.Onnx.Analysis;

/// <summary>Arithmetic on concrete shapes shared by the shape rules.</summary>
internal static class ShapeMath
{
    /// <summary>A shape as text, e.g. [1,64,32,32].</summary>
    public static string Format(IEnumerable<long> dims) => "[" + string.Join(",", dims) + "]";

    /// <summary>The product of <paramref name="dims"/>; overflow throws rather than producing nonsense sizes.</summary>
    public static long Product(IEnumerable<long> dims)
    {
        long product = 1;
        foreach (var d in dims) product = checked(product * d);
        return product;
    }

    /// <summary>An axis in [-rank, rank-1] made non-negative.</summary>
    public static int Axis(long axis, int rank, string what = "axis")
    {
        var normalized = axis < 0 ? axis + rank : axis;
        if (normalized < 0 || normalized >= rank)
        {
            throw new ShapeRuleException($"{what} {axis} is out of range for rank {rank}");
        }
        return (int)normalized;
    }

    /// <summary>A split point in [-rank, rank] made non-negative (Flatten's axis may equal the rank).</summary>
    public static int SplitPoint(long axis, int rank, string what = "axis")
    {
        var normalized = axis < 0 ? axis + rank : axis;
        if (normalized < 0 || normalized > rank)
        {
            throw new ShapeRuleException($"{what} {axis} is out of range for rank {rank}");
        }
        return (int)normalized;
    }

    /// <summary>Numpy broadcasting of two shapes, or null when they are incompatible.</summary>
    public static long[]? Broadcast(long[] a, long[] b)
    {
        var rank = Math.Max(a.Length, b.Length);
        var result = new long[rank];
        for (var i = 0; i < rank; i++)
        {
            var da = DimFromRight(a, rank - i);
            var db = DimFromRight(b, rank - i);
            if (da == db || db == 1) result[i] = da;
            else if (da == 1) result[i] = db;
            else return null;
        }
        return result;
    }

    /// <summary>The dimension <paramref name="fromEnd"/> places from the end, or 1 past the start (numpy's implicit leading ones).</summary>
    private static long DimFromRight(long[] shape, int fromEnd) => fromEnd <= shape.Length ? shape[^fromEnd] : 1;

    /// <summary>Numpy broadcasting of several shapes; a diagnostic listing them all when they are incompatible.</summary>
    public static long[] BroadcastAll(IReadOnlyList<long[]> shapes)
    {
        long[] result = [];
        foreach (var shape in shapes)
        {
            result = Broadcast(result, shape)
                ?? throw new ShapeRuleException($"input shapes {string.Join(", ", shapes.Select(Format))} cannot be broadcast together");
        }
        return result;
    }

    /// <summary>Ceiling of <paramref name="a"/>/<paramref name="b"/> for a positive divisor.</summary>
    public static long CeilDiv(long a, long b) => a >= 0 ? (a + b - 1) / b : -(-a / b);
}
