using Acp.Onnx.Analysis;
using Acp.Onnx.Ir;

namespace Acp.Onnx.Channels;

/// <summary>
/// A channel rule's view of one node during surgery: the node as analysed (to read shapes and constants), its copy
/// in the new model (to change attributes), the kept channels of its values, and copy-on-write constant updates.
/// </summary>
internal sealed class RewriteContext(Node original, Node node, long opset, PruningPlan plan, ConstantResolver constants,
    ShapeInferenceResult shapes, ConstantRewriter rewriter)
{
    /// <summary>The node in the analysed model; read shapes and contents through it.</summary>
    public Node Original { get; } = original;

    /// <summary>The node's copy in the new model; change attributes here.</summary>
    public Node Node { get; } = node;

    /// <summary>The standard opset version.</summary>
    public long Opset { get; } = opset;

    /// <summary>The kept channels of input <paramref name="index"/>, or null when they do not change.</summary>
    public int[]? KeptInput(int index) => plan.KeptChannels(Original.InputAt(index));

    /// <summary>The kept channels of output <paramref name="index"/>, or null when they do not change.</summary>
    public int[]? KeptOutput(int index) => index < Original.Outputs.Count ? plan.KeptChannels(Original.Outputs[index]) : null;

    /// <summary>The original shape of input <paramref name="index"/>.</summary>
    public long[]? InputShape(int index) => Original.InputAt(index) is { } name ? shapes.ShapeOf(name) : null;

    /// <summary>The original shape of output <paramref name="index"/>.</summary>
    public long[]? OutputShape(int index) => index < Original.Outputs.Count ? shapes.ShapeOf(Original.Outputs[index]) : null;

    /// <summary>The original contents of input <paramref name="index"/>, when known.</summary>
    public OnnxTensor? Contents(int index) => constants.Contents(Original.InputAt(index));

    /// <summary>
    /// Makes input <paramref name="index"/> of the new node read <paramref name="contents"/>. The constant is
    /// changed in place only when nothing else reads it; otherwise the node gets its own copy.
    /// </summary>
    public void ReplaceInput(int index, OnnxTensor contents) => rewriter.Request(Node, index, contents);

    /// <summary>Sets input <paramref name="index"/> of the new node (appending empty inputs before it) to a new initializer.</summary>
    public void AddInput(int index, OnnxTensor contents, string nameHint) => rewriter.AddInput(Node, index, contents, nameHint);
}
