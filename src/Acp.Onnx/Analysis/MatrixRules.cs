namespace Acp.Onnx.Analysis;

/// <summary>Shape rules of Gemm and MatMul.</summary>
internal static class MatrixRules
{
    public static void Register(Dictionary<string, Action<NodeContext>> rules)
    {
        rules["Gemm"] = Gemm;
        rules["MatMul"] = MatMul;
    }

    /// <summary>A [M,K] (or [K,M] with transA), B [K,N] (or [N,K] with transB), C broadcastable to [M,N] → [M,N].</summary>
    private static void Gemm(NodeContext context)
    {
        var (m, k, n) = GemmDimensions(context.Shape(0), context.Shape(1), context.Node.GetInt("transA", 0) != 0, context.Node.GetInt("transB", 0) != 0);
        if (context.Has(2))
        {
            var c = context.Shape(2);
            if (ShapeMath.Broadcast([m, n], c) is not { } result || result[0] != m || result[1] != n)
            {
                throw new ShapeRuleException($"C {ShapeMath.Format(c)} does not broadcast to the output [{m},{n}] (K = {k})");
            }
        }
        context.Output(0, [m, n]);
    }

    /// <summary>M, K and N of a Gemm, checking that A's and B's inner dimensions agree.</summary>
    public static (long M, long K, long N) GemmDimensions(long[] a, long[] b, bool transA, bool transB)
    {
        if (a.Length != 2 || b.Length != 2)
        {
            throw new ShapeRuleException($"A {ShapeMath.Format(a)} and B {ShapeMath.Format(b)} must both be matrices");
        }
        var (m, k) = transA ? (a[1], a[0]) : (a[0], a[1]);
        var (kb, n) = transB ? (b[1], b[0]) : (b[0], b[1]);
        if (k != kb)
        {
            throw new ShapeRuleException($"A {ShapeMath.Format(a)}{(transA ? " transposed" : "")} has K = {k} but B {ShapeMath.Format(b)}{(transB ? " transposed" : "")} has K = {kb}");
        }
        return (m, k, n);
    }

    /// <summary>
    /// Numpy matmul: a 1-D A is a row [1,K] and a 1-D B a column [K,1], with that dimension removed from the result;
    /// leading (batch) dimensions broadcast.
    /// </summary>
    private static void MatMul(NodeContext context)
    {
        var a = context.Shape(0);
        var b = context.Shape(1);
        var d = MatMulDimensions(a, b);
        long[] shape = [.. d.Batch, .. a.Length > 1 ? [d.M] : Array.Empty<long>(), .. b.Length > 1 ? [d.N] : Array.Empty<long>()];
        context.Output(0, shape);
    }

    /// <summary>The broadcast batch dimensions and M, K, N of a MatMul, checking that the operands agree.</summary>
    public static (long[] Batch, long M, long K, long N) MatMulDimensions(long[] a, long[] b)
    {
        if (a.Length == 0 || b.Length == 0)
        {
            throw new ShapeRuleException($"A {ShapeMath.Format(a)} and B {ShapeMath.Format(b)} must not be scalars");
        }
        var a2 = a.Length == 1 ? [1, a[0]] : a;
        var b2 = b.Length == 1 ? [b[0], 1] : b;
        if (a2[^1] != b2[^2])
        {
            throw new ShapeRuleException($"A {ShapeMath.Format(a)} has K = {a2[^1]} but B {ShapeMath.Format(b)} has K = {b2[^2]}");
        }
        var batch = ShapeMath.Broadcast(a2[..^2], b2[..^2])
            ?? throw new ShapeRuleException($"the batch dimensions of A {ShapeMath.Format(a)} and B {ShapeMath.Format(b)} cannot be broadcast together");
        return (batch, a2[^2], a2[^1], b2[^1]);
    }
}
