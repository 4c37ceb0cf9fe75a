// Per-kernel timings on ResNet-20's convolution shapes (batch 128), or with --shapes resnet18-224 on torchvision
// ResNet-18's at 224 px (use --batch 8 or 16): forward, data gradient and filter gradient of every distinct layer, min
// and median of repeated calls, and their sum weighted by how often each shape occurs in the network. Meant for A/B
// comparisons of kernel changes on a shared machine, where min-of-N of one kernel is far steadier than a whole
// training step. Usage:
//   dotnet run -c Release --project bench/Acp.Bench -- --kernels [--repeats 9] [--batch 128] [--shapes resnet20|resnet18-224]
//                                                     [--only SUBSTRING-OF-SHAPE-NAME] [--forward-only]
using System.Diagnostics;
using System.Globalization;
using Acp.Engine.Kernels;

internal static class KernelBench
{
    private sealed record Shape(string Name, int Count, ConvGeometry Geometry);

    public static int Run(int batch, int repeats, string? only, string shapeSet = "resnet20", bool forwardOnly = false)
    {
        var shapes = shapeSet switch
        {
            "resnet20" => ResNet20(batch),
            "resnet18-224" => ResNet18At224(batch),
            _ => throw new ArgumentException($"--shapes takes resnet20 or resnet18-224, not '{shapeSet}'."),
        };
        var random = new Random(3);
        double totalForward = 0, totalData = 0, totalFilter = 0;
        Console.WriteLine($"{"shape",-24} {"n",2} {"fwd min/med ms",16} {"bwd-data min/med",18} {"bwd-filter min/med",20}");
        foreach (var shape in shapes)
        {
            if (only is not null && !shape.Name.Contains(only, StringComparison.Ordinal)) continue;
            var g = shape.Geometry;
            var x = Fill(new float[g.InputLength], random);
            var w = Fill(new float[g.WeightLength], random);
            var dy = Fill(new float[g.OutputLength], random);
            var y = new float[g.OutputLength];
            var dx = new float[g.InputLength];
            var dw = new float[g.WeightLength];
            var forward = Time(repeats, () => Conv2d.Forward(g, x, w, null, y));
            var data = forwardOnly ? default : Time(repeats, () => Conv2d.BackwardData(g, dy, w, dx));
            var filter = forwardOnly ? default : Time(repeats, () => Conv2d.BackwardFilter(g, x, dy, dw, null));
            totalForward += shape.Count * forward.Min;
            totalData += shape.Count * data.Min;
            totalFilter += shape.Count * filter.Min;
            Console.WriteLine($"{shape.Name,-24} {shape.Count,2} {Pair(forward),16} {Pair(data),18} {Pair(filter),20}");
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"weighted sum of minima: forward {totalForward:0.0} ms, data {totalData:0.0} ms, filter {totalFilter:0.0} ms, all {totalForward + totalData + totalFilter:0.0} ms"));
        return 0;
    }

    private static Shape[] ResNet20(int batch) =>
    [
        new Shape("stem 1->16 28x28", 1, Conv(batch, 1, 28, 16, 3, 1)),
        new Shape("16->16 28x28", 6, Conv(batch, 16, 28, 16, 3, 1)),
        new Shape("16->32 s2 28->14", 1, Conv(batch, 16, 28, 32, 3, 2)),
        new Shape("16->32 1x1 s2", 1, Conv(batch, 16, 28, 32, 1, 2)),
        new Shape("32->32 14x14", 5, Conv(batch, 32, 14, 32, 3, 1)),
        new Shape("32->64 s2 14->7", 1, Conv(batch, 32, 14, 64, 3, 2)),
        new Shape("32->64 1x1 s2", 1, Conv(batch, 32, 14, 64, 1, 2)),
        new Shape("64->64 7x7", 5, Conv(batch, 64, 7, 64, 3, 1)),
    ];

    /// <summary>torchvision's ResNet-18 at 224 px: the 7×7 stem, then four stages of two basic blocks.</summary>
    private static Shape[] ResNet18At224(int batch) =>
    [
        new Shape("stem 3->64 7x7 s2 224", 1, Conv(batch, 3, 224, 64, 7, 2)),
        new Shape("64->64 56x56", 4, Conv(batch, 64, 56, 64, 3, 1)),
        new Shape("64->128 s2 56->28", 1, Conv(batch, 64, 56, 128, 3, 2)),
        new Shape("64->128 1x1 s2", 1, Conv(batch, 64, 56, 128, 1, 2)),
        new Shape("128->128 28x28", 3, Conv(batch, 128, 28, 128, 3, 1)),
        new Shape("128->256 s2 28->14", 1, Conv(batch, 128, 28, 256, 3, 2)),
        new Shape("128->256 1x1 s2", 1, Conv(batch, 128, 28, 256, 1, 2)),
        new Shape("256->256 14x14", 3, Conv(batch, 256, 14, 256, 3, 1)),
        new Shape("256->512 s2 14->7", 1, Conv(batch, 256, 14, 512, 3, 2)),
        new Shape("256->512 1x1 s2", 1, Conv(batch, 256, 14, 512, 1, 2)),
        new Shape("512->512 7x7", 3, Conv(batch, 512, 7, 512, 3, 1)),
    ];

    private static ConvGeometry Conv(int batch, int inChannels, int size, int outChannels, int kernel, int stride)
    {
        var pad = kernel / 2;
        return new ConvGeometry(batch, inChannels, size, size, outChannels, kernel, kernel, stride, stride, pad, pad, pad, pad, 1, 1, 1);
    }

    private static float[] Fill(float[] buffer, Random random)
    {
        for (var i = 0; i < buffer.Length; i++) buffer[i] = (float)(random.NextDouble() * 2 - 1);
        return buffer;
    }

    private static (double Min, double Median) Time(int repeats, Action run)
    {
        run();
        run();
        var times = new double[repeats];
        for (var i = 0; i < repeats; i++)
        {
            var clock = Stopwatch.StartNew();
            run();
            times[i] = clock.Elapsed.TotalMilliseconds;
        }
        Array.Sort(times);
        return (times[0], times[repeats / 2]);
    }

    private static string Pair((double Min, double Median) t) =>
        string.Create(CultureInfo.InvariantCulture, $"{t.Min:0.00}/{t.Median:0.00}");
}
