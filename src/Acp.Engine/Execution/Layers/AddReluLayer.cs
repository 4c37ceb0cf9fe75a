namespace Acp.Engine.Execution.Layers;

/// <summary>
/// Training-mode residual Add → Relu as one layer (planned by <see cref="TrainingFusion"/>): y = max(0, a + b) in one
/// pass, and both operand gradients dy·[y &gt; 0] in one pass. The sum is neither written nor its gradient; same bits
/// as the two layers apart.
/// </summary>
internal sealed class AddReluLayer(BinaryLayer add, ActivationLayer relu) : Layer(add.Node, add.Inputs, relu.Outputs)
{
    public override string OpName => "Add+Relu";

    public override void Forward(bool training) => add.ForwardWithRelu(Outputs[0]);

    public override void Backward() => add.BackwardThroughRelu(Outputs[0]);
}
