namespace Acp.Onnx.Channels.Rules;

/// <summary>Constant operands broadcast against an activation: a bias, a scale, a PRelu slope.</summary>
internal static class Operands
{
    /// <summary>
    /// Binds the constant at input <paramref name="index"/> when, broadcast numpy-style against
    /// <paramref name="output"/>, it has one entry per channel (shape [C,1,1] or [1,C,1,1] for an image, [C] for a
    /// matrix); a constant that is the same for every channel needs nothing. Returns false after fencing the node
    /// when the operand cannot be followed.
    /// </summary>
    public static bool Bind(LinkContext context, int index, TrackedValue output)
    {
        if (context.InputShape(index) is not { } shape)
        {
            context.Fence($"the shape of input {index} ('{context.Node.InputAt(index)}') is unknown");
            return false;
        }
        var axis = 1 - (output.Shape.Length - shape.Length);
        if (axis < 0 || shape[axis] == 1) return true;
        if (shape[axis] != output.Channels)
        {
            context.Fence($"input {index} has shape [{string.Join(",", shape)}], which does not broadcast per channel over the {output.Channels} channels of '{output.Name}'");
            return false;
        }
        return context.Bind(index, axis, output);
    }

    /// <summary>Fences the node when an input other than the first is an activation; true when all are constants.</summary>
    public static bool OnlyFirstIsActivation(LinkContext context)
    {
        for (var i = 1; i < context.Node.Inputs.Count; i++)
        {
            if (context.Input(i) is { } value)
            {
                context.Fence($"input {i} ('{value.Name}') is an activation where a constant is expected");
                return false;
            }
        }
        return true;
    }
}
