namespace Acp.Engine.Execution.Layers;

/// <summary>
/// Training-mode BatchNormalization → Relu as one layer (planned by <see cref="TrainingFusion"/>): the forward writes
/// max(0, BN(x)) straight into the Relu's output, the backward gates the Relu's gradient by that output as the
/// normalisation's backward reads it. The value between the two is neither written nor its gradient; same bits as
/// the two layers apart.
/// </summary>
internal sealed class BatchNormReluLayer(BatchNormLayer norm, ActivationLayer relu) : Layer(norm.Node, norm.Inputs, relu.Outputs)
{
    public override string OpName => "BatchNormalization+Relu";

    public override void Forward(bool training) => norm.ForwardWithRelu(Outputs[0]);

    public override void Backward() => norm.BackwardThroughRelu(Outputs[0]);
}
