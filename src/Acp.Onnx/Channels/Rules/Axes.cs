namespace Acp.Onnx.Channels.Rules;

/// <summary>Small index helpers the rules share.</summary>
internal static class Axes
{
    /// <summary><paramref name="axis"/> counted from the front (negative ones count from the end), or -1 when out of range.</summary>
    public static int Normalize(long axis, int rank)
    {
        var a = axis < 0 ? axis + rank : axis;
        return a >= 0 && a < rank ? (int)a : -1;
    }

    /// <summary>The product of <paramref name="dims"/> from <paramref name="start"/> on.</summary>
    public static long Product(long[] dims, int start)
    {
        long product = 1;
        for (var i = start; i < dims.Length; i++) product = checked(product * dims[i]);
        return product;
    }

    /// <summary>0, 1, ..., <paramref name="count"/> - 1.</summary>
    public static int[] Identity(int count) => Enumerable.Range(0, count).ToArray();
}
