using Acp.Data;
using Acp.Onnx.Analysis;
using Acp.Onnx.Ir;

namespace Acp.MLNet;

/// <summary>
/// What an image classifier takes and gives: one float input [N, C, H, W] with C, H, W fixed, and a first output
/// [N, classes]. Checked once per model so data that do not fit are refused with the model's and the data's shapes.
/// </summary>
internal sealed record ImageModelSignature(string Source, string InputName, ImageShape ImageShape, long? FixedBatch, string OutputName, int ClassCount)
{
    /// <summary>Values per image: C × H × W.</summary>
    public int FeatureCount => ImageShape.PixelCount;

    /// <exception cref="ArgumentException">The model is not shaped like an image classifier.</exception>
    public static ImageModelSignature Of(OnnxModel model, string source, string parameter = "model")
    {
        var inputs = model.Graph.RuntimeInputs.ToList();
        if (inputs.Count != 1)
        {
            throw new ArgumentException($"{source}: an image classifier takes one input; this model takes {inputs.Count} ({string.Join(", ", inputs.Select(i => i.Name))}).", parameter);
        }
        var input = inputs[0];
        if (input.ElementType is { } type && type != ElementType.Float)
        {
            throw new ArgumentException($"{source}: input {input} is not float; Acp feeds float images.", parameter);
        }
        var shape = input.Shape;
        if (shape is not { Length: 4 } || shape.Skip(1).Any(d => d.Value is not > 0))
        {
            throw new ArgumentException($"{source}: input {input} is not an image batch [N, C, H, W] with fixed C, H and W.", parameter);
        }
        if (model.Graph.Outputs.Count == 0) throw new ArgumentException($"{source}: the model has no output.", parameter);
        var output = model.Graph.Outputs[0];
        var inferred = ShapeInference.Run(model).ShapeOf(output.Name);
        if (inferred is not { Length: 2 } || inferred[1] < 1)
        {
            throw new ArgumentException(
                $"{source}: output {output.Name} has shape {(inferred is null ? "?" : "[" + string.Join(",", inferred) + "]")}; a classifier's first output is [N, classes].", parameter);
        }
        var image = new ImageShape((int)shape[1].Value!.Value, (int)shape[2].Value!.Value, (int)shape[3].Value!.Value);
        return new ImageModelSignature(source, input.Name, image, shape[0].Value, output.Name, checked((int)inferred[1]));
    }
}
