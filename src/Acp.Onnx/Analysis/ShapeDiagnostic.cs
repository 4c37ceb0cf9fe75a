using Acp.Onnx.Ir;

namespace Acp.Onnx.Analysis;

/// <summary>
/// Something shape inference could not work out or found inconsistent. Messages are written for users
/// (<c>acp inspect</c> prints them) and carry the numbers involved.
/// </summary>
/// <param name="Node">The node concerned, or null for problems of the graph as a whole (inputs, cycles).</param>
/// <param name="Message">What went wrong, without the node's name (see <see cref="ToString"/>).</param>
public sealed record ShapeDiagnostic(Node? Node, string Message)
{
    /// <summary>The message prefixed with the node's display name and operator, e.g. <c>conv1 (Conv): ...</c>.</summary>
    public override string ToString() => Node is null ? Message : $"{Node.DisplayName} ({OperatorName(Node)}): {Message}";

    private static string OperatorName(Node node) => node.IsStandard ? node.OpType : $"{node.Domain}::{node.OpType}";
}
