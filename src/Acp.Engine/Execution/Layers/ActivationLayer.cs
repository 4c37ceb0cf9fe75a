using Acp.Engine.Kernels;
using Acp.Onnx.Ir;

namespace Acp.Engine.Execution.Layers;

/// <summary>Element-wise activations: Relu, LeakyRelu, Clip (ReLU6), Sigmoid, HardSigmoid, HardSwish, Tanh.</summary>
internal sealed class ActivationLayer(Node node, ValueSlot?[] inputs, ValueSlot[] outputs) : Layer(node, inputs, outputs)
{
    private float _a, _b;

    public static readonly string[] Operators = ["Relu", "LeakyRelu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh"];

    public override void Plan()
    {
        (_a, _b) = Node.OpType switch
        {
            "LeakyRelu" => (Node.GetFloat("alpha", 0.01f), 0f),
            "HardSigmoid" => (Node.GetFloat("alpha", 0.2f), Node.GetFloat("beta", 0.5f)),
            // Opset 11+ passes min and max as optional inputs; opset 6 as attributes.
            "Clip" => (ConstantScalar(1) ?? Node.GetFloat("min", float.NegativeInfinity), ConstantScalar(2) ?? Node.GetFloat("max", float.PositiveInfinity)),
            _ => (0f, 0f),
        };
    }

    public override void Forward(bool training)
    {
        var x = Input(0).Data;
        var y = Outputs[0].Data;
        var n = x.Length;
        switch (Node.OpType)
        {
            case "Relu": Activations.ReluForward(n, x, y); break;
            case "LeakyRelu": Activations.LeakyReluForward(n, x, y, _a); break;
            case "Clip": Activations.ClipForward(n, x, y, _a, _b); break;
            case "Sigmoid": Activations.SigmoidForward(n, x, y); break;
            case "HardSigmoid": Activations.HardSigmoidForward(n, x, y, _a, _b); break;
            case "HardSwish": Activations.HardSwishForward(n, x, y); break;
            case "Tanh": Activations.TanhForward(n, x, y); break;
        }
    }

    public override void Backward()
    {
        if (BeginInputGradient(0) is not { } dx) return;
        var x = Input(0).Data;
        var y = Outputs[0].Data;
        var dy = Outputs[0].ReadGradient();
        var n = x.Length;
        switch (Node.OpType)
        {
            case "Relu": Activations.ReluBackward(n, x, y, dy, dx); break;
            case "LeakyRelu": Activations.LeakyReluBackward(n, x, y, dy, dx, _a); break;
            case "Clip": Activations.ClipBackward(n, x, y, dy, dx, _a, _b); break;
            case "Sigmoid": Activations.SigmoidBackward(n, x, y, dy, dx); break;
            case "HardSigmoid": Activations.HardSigmoidBackward(n, x, y, dy, dx, _a, _b); break;
            case "HardSwish": Activations.HardSwishBackward(n, x, y, dy, dx); break;
            case "Tanh": Activations.TanhBackward(n, x, y, dy, dx); break;
        }
        EndInputGradient(0);
    }
}
