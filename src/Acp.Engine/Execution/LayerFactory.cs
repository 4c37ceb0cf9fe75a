using Acp.Engine.Execution.Layers;
using Acp.Onnx.Ir;

namespace Acp.Engine.Execution;

/// <summary>Maps an ONNX operator to its layer. The list here is the engine's supported operator set.</summary>
internal static class LayerFactory
{
    public static Layer Create(Node node, ValueSlot?[] inputs, ValueSlot[] outputs, Random random)
    {
        if (!node.IsStandard)
        {
            throw new EngineException($"Node '{node.DisplayName}': operator {node.Domain}.{node.OpType} is not supported by the engine.");
        }
        return node.OpType switch
        {
            "Conv" => new ConvLayer(node, inputs, outputs),
            "BatchNormalization" => new BatchNormLayer(node, inputs, outputs),
            "MaxPool" or "AveragePool" => new PoolLayer(node, inputs, outputs),
            "GlobalAveragePool" => new GlobalAveragePoolLayer(node, inputs, outputs),
            "Gemm" or "MatMul" => new MatrixLayer(node, inputs, outputs),
            "Concat" => new ConcatLayer(node, inputs, outputs),
            "Split" => new SplitLayer(node, inputs, outputs),
            "Softmax" => new SoftmaxLayer(node, inputs, outputs),
            _ when ActivationLayer.Operators.Contains(node.OpType) => new ActivationLayer(node, inputs, outputs),
            _ when BinaryLayer.Operators.Contains(node.OpType) => new BinaryLayer(node, inputs, outputs),
            _ when CopyLayer.Operators.Contains(node.OpType) => new CopyLayer(node, inputs, outputs, random),
            _ when IndexMapLayer.Operators.Contains(node.OpType) => new IndexMapLayer(node, inputs, outputs),
            _ => throw new EngineException($"Node '{node.DisplayName}': operator {node.OpType} is not supported by the engine."),
        };
    }
}
