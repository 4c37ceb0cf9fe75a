namespace Acp.Pruning;

/// <summary>Parameters and MACs under the convention of <c>Acp.Onnx.Analysis.ModelCost</c>.</summary>
/// <param name="Params">Learnable parameter elements.</param>
/// <param name="Macs">Multiply-accumulates of Conv, Gemm and MatMul for one input of the analysed batch size.</param>
public sealed record PredictedCost(long Params, long Macs)
{
    /// <summary>e.g. <c>11,181,642 params, 1,818,558,464 MACs</c>.</summary>
    public override string ToString() => $"{Params:N0} params, {Macs:N0} MACs";
}
