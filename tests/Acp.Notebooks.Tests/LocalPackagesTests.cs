using Acp.Notebooks.Tests.Support;

namespace Acp.Notebooks.Tests;

/// <summary>The rewrite that points a notebook's package lines at the packed checkout, on cells written here.</summary>
public sealed class LocalPackagesTests
{
    private static readonly string Checkout = LocalPackages.CheckoutVersion;

    [Fact]
    public void The_placeholder_source_and_the_checkout_version_are_replaced_and_nothing_else()
    {
        var cell = string.Join('\n',
            $"#i \"nuget: {LocalPackages.PlaceholderSource}\"",
            $"#r \"nuget: Acp.MLNet, {Checkout}\"",
            $"#r \"nuget:Acp.Pruning,{Checkout}\"",
            "#r \"nuget: Acp.Onnx, 0.0.1\"",
            "#r \"nuget: Microsoft.ML.OnnxRuntime, 1.32.0\"",
            $"var text = \"{Checkout}\";");
        var rewritten = LocalPackages.Rewrite(cell, "/tmp/packed", "9.9.9-test");
        Assert.Equal(string.Join('\n',
            "#i \"nuget: /tmp/packed\"",
            "#r \"nuget: Acp.MLNet, 9.9.9-test\"",
            "#r \"nuget:Acp.Pruning,9.9.9-test\"",
            "#r \"nuget: Acp.Onnx, 0.0.1\"",
            "#r \"nuget: Microsoft.ML.OnnxRuntime, 1.32.0\"",
            $"var text = \"{Checkout}\";"), rewritten);
    }
}
