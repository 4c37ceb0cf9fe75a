// What the benchmark runs: the model file, the shape of one image and the number of classes, read from the model
// itself (its one runtime input [batch, C, H, W] and its first output [batch, classes]), and the name under which
// bench/pytorch_peer.py builds the same network in PyTorch. Kept apart from Program.cs so the sides of the benchmark
// (engine, ONNX Runtime, PyTorch, others) share one description of the workload.
using System.Globalization;
using Acp.Engine.Tensors;
using Acp.Onnx.Ir;

/// <summary>The benchmark's workload: a model, its image shape and classes, and the PyTorch peer that mirrors it.</summary>
internal sealed record BenchModel(string Path, OnnxModel Model, int Channels, int Height, int Width, int Classes, string PeerModel)
{
    /// <summary>Reads the model and its shapes; <paramref name="peerModel"/> overrides the peer network's name.</summary>
    public static BenchModel Load(string path, string? peerModel)
    {
        var model = OnnxModel.Load(path);
        var inputs = model.Graph.RuntimeInputs.ToList();
        if (inputs.Count != 1 || inputs[0].Shape is not { Length: 4 } input || input.Skip(1).Any(d => d.Value is null))
        {
            throw new ArgumentException($"{path}: the benchmark needs one image input [batch, C, H, W] with fixed C, H and W.");
        }
        if (model.Graph.Outputs.FirstOrDefault()?.Shape is not { Length: 2 } output || output[1].Value is not { } classes)
        {
            throw new ArgumentException($"{path}: the benchmark needs a first output [batch, classes] with a fixed class count.");
        }
        return new BenchModel(path, model, (int)input[1].Value!.Value, (int)input[2].Value!.Value, (int)input[3].Value!.Value, (int)classes,
            peerModel ?? PeerFor(path));
    }

    /// <summary>
    /// The peer network for the repository's fixtures: ResNet-20 (tools/resnet20.py) for the engine fixture, and
    /// torchvision's network with BatchNormalization folded for the 224-px exports of tools/generate_imagenet_fixtures.py
    /// ("resnet18.224.onnx" → "torchvision:resnet18").
    /// </summary>
    private static string PeerFor(string path)
    {
        var name = System.IO.Path.GetFileName(path);
        var dot = name.IndexOf('.', StringComparison.Ordinal);
        var stem = dot < 0 ? name : name[..dot];
        return name.EndsWith(".224.onnx", StringComparison.Ordinal) ? "torchvision:" + stem : stem;
    }

    /// <summary>The input shape at <paramref name="batch"/>, as ONNX Runtime takes it.</summary>
    public long[] InputShape(int batch) => [batch, Channels, Height, Width];

    /// <summary>A batch of uniform noise in [-1, 1): real images do not change the speed.</summary>
    public Tensor RandomInput(int batch, Random random)
    {
        var input = new Tensor(batch, Channels, Height, Width);
        for (var i = 0; i < input.Length; i++) input.Data[i] = (float)(random.NextDouble() * 2 - 1);
        return input;
    }

    /// <summary>Arguments that make bench/pytorch_peer.py build this workload.</summary>
    public IEnumerable<string> PeerArguments() =>
    [
        "--model", PeerModel,
        "--input-shape", string.Create(CultureInfo.InvariantCulture, $"{Channels},{Height},{Width}"),
        "--classes", Classes.ToString(CultureInfo.InvariantCulture),
    ];

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{System.IO.Path.GetFileName(Path)} ({Channels}x{Height}x{Width}, {Classes} classes; PyTorch peer {PeerModel})");
}
