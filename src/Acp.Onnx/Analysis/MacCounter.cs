using Acp.Onnx.Ir;

namespace Acp.Onnx.Analysis;

/// <summary>Multiply-accumulates of the operators <see cref="ModelCost"/> counts, from inferred shapes.</summary>
internal static class MacCounter
{
    /// <summary>The node's MACs; 0 for operators not counted, null when the shapes it needs are unknown or inconsistent.</summary>
    public static long? Count(Node node, ShapeInferenceResult shapes)
    {
        if (!node.IsStandard || node.OpType is not ("Conv" or "ConvTranspose" or "Gemm" or "MatMul")) return 0;
        // An unknown output means inference rejected or could not reach the node; its operands are not trustworthy.
        if (node.Outputs.FirstOrDefault() is not { Length: > 0 } output || shapes.ShapeOf(output) is not { } y) return null;
        if (node.InputAt(0) is not { } a || shapes.ShapeOf(a) is not { } x) return null;
        if (node.InputAt(1) is not { } b || shapes.ShapeOf(b) is not { } w) return null;
        try
        {
            return node.OpType switch
            {
                // Every output element accumulates over (C_in / group) × kernel inputs: W is [M, C_in/group, k...].
                "Conv" => ShapeMath.Product(y) * ShapeMath.Product(w[1..]),
                // Every input element scatters into (C_out / group) × kernel outputs: W is [C_in, C_out/group, k...].
                "ConvTranspose" => ShapeMath.Product(x) * ShapeMath.Product(w[1..]),
                "Gemm" => Gemm(node, x, w),
                _ => MatMul(x, w),
            };
        }
        catch (Exception e) when (e is ShapeRuleException or OverflowException)
        {
            return null;
        }
    }

    private static long Gemm(Node node, long[] a, long[] b)
    {
        var (m, k, n) = MatrixRules.GemmDimensions(a, b, node.GetInt("transA", 0) != 0, node.GetInt("transB", 0) != 0);
        return checked(m * k * n);
    }

    private static long MatMul(long[] a, long[] b)
    {
        var (batch, m, k, n) = MatrixRules.MatMulDimensions(a, b);
        return checked(ShapeMath.Product(batch) * m * k * n);
    }
}
