namespace Acp.Engine.Execution.Layers;

/// <summary>
/// One Conv [→ BatchNormalization] [→ Add] [→ Relu] chain of an inference pass as one layer (planned by
/// <see cref="InferenceFusion"/>): a convolution with the normalisation (if any) folded into its weights and bias,
/// folded again at every forward from the current weights, running statistics and masks, and the Add and Relu in its
/// store.
/// </summary>
internal sealed class ConvBatchNormLayer(InferenceFusion.ConvChain chain, IReadOnlyDictionary<ValueSlot, InferenceFusion.ConvChain> padded)
    : Layer(chain.ConvNode, chain.Inputs, [chain.End])
{
    public override string OpName { get; } = chain.Name;

    public override void Forward(bool training) => chain.Run(padded);

    public override void Backward() => chain.Backward();

    /// <summary>Whether the chain has a normalisation (see <see cref="InferenceFusion.ConvChain.HasNorm"/>).</summary>
    public bool HasNorm => chain.HasNorm;
}
