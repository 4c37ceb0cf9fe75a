using Acp.Onnx.Analysis;
using Xunit.Sdk;

namespace Acp.Onnx.Tests.Analysis;

internal static class ShapeResultExtensions
{
    /// <summary>The shape of a value that must have been inferred; fails the test otherwise.</summary>
    public static long[] KnownShape(this ShapeInferenceResult result, string value) =>
        result.ShapeOf(value) ?? throw new XunitException($"No shape was inferred for '{value}'; diagnostics: {string.Join(" | ", result.Diagnostics)}");
}
