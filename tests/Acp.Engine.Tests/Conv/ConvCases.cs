using Acp.Engine.Kernels;
using static Acp.Engine.Tests.Conv.ConvTestSupport;

namespace Acp.Engine.Tests.Conv;

/// <summary>
/// Named convolution and pooling geometries: hand-picked corners (groups, depthwise, strides, asymmetric pads,
/// dilation, 1×1 shortcuts, batch 1 and 3, odd sizes) plus seeded random ones.
/// </summary>
internal static class ConvCases
{
    public static readonly IReadOnlyDictionary<string, ConvGeometry> Convolutions = BuildConvolutions();

    public static readonly IReadOnlyDictionary<string, PoolGeometry> Pools = BuildPools();

    public static TheoryData<string> ConvNames => new(Convolutions.Keys);

    public static TheoryData<string> PoolNames => new(Pools.Keys);

    private static Dictionary<string, ConvGeometry> BuildConvolutions()
    {
        var cases = new Dictionary<string, ConvGeometry>
        {
            ["3x3 pad1 resnet-like"] = MakeConv(3, 8, 10, 10, 8, 3, 3, pt: 1, pl: 1, pb: 1, pr: 1),
            ["3x3 pad1 batch1"] = MakeConv(1, 5, 9, 7, 6, 3, 3, pt: 1, pl: 1, pb: 1, pr: 1),
            ["3x3 stride2 pad1"] = MakeConv(3, 4, 11, 9, 6, 3, 3, 2, 2, 1, 1, 1, 1),
            ["3x3 no pad"] = MakeConv(2, 3, 7, 8, 5, 3, 3),
            ["asymmetric pads"] = MakeConv(3, 3, 7, 9, 4, 3, 3, pt: 0, pl: 2, pb: 1, pr: 0),
            ["asymmetric pads stride2"] = MakeConv(3, 3, 8, 7, 4, 3, 2, 2, 2, 2, 0, 0, 1),
            ["mixed strides"] = MakeConv(2, 3, 9, 10, 4, 3, 3, 1, 2, 1, 1, 1, 1),
            ["dilation2"] = MakeConv(3, 4, 11, 10, 5, 3, 3, pt: 2, pl: 2, pb: 2, pr: 2, dh: 2, dw: 2),
            ["dilation2 stride2 asym"] = MakeConv(1, 3, 13, 12, 4, 3, 3, 2, 2, 1, 2, 0, 1, 2, 2),
            ["dilation mixed"] = MakeConv(2, 2, 9, 9, 3, 2, 3, pt: 1, pl: 0, pb: 1, pr: 2, dh: 3, dw: 1),
            ["1x1 direct"] = MakeConv(3, 6, 5, 7, 4, 1, 1),
            ["1x1 direct batch1"] = MakeConv(1, 16, 4, 4, 32, 1, 1),
            ["1x1 stride2"] = MakeConv(3, 6, 9, 7, 5, 1, 1, 2, 2),
            ["1x1 padded"] = MakeConv(2, 3, 4, 5, 2, 1, 1, pt: 1, pl: 0, pb: 0, pr: 1),
            ["groups2"] = MakeConv(3, 6, 8, 7, 4, 3, 3, pt: 1, pl: 1, pb: 1, pr: 1, groups: 2),
            ["groups2 stride2"] = MakeConv(2, 4, 9, 9, 6, 3, 3, 2, 2, 1, 1, 1, 1, groups: 2),
            ["groups3 1x1"] = MakeConv(3, 6, 5, 5, 9, 1, 1, groups: 3),
            ["depthwise 3x3"] = MakeConv(3, 8, 9, 11, 8, 3, 3, pt: 1, pl: 1, pb: 1, pr: 1, groups: 8),
            ["depthwise wide rows"] = MakeConv(2, 3, 6, 37, 3, 3, 3, pt: 1, pl: 1, pb: 1, pr: 1, groups: 3),
            ["depthwise stride2"] = MakeConv(3, 5, 10, 9, 5, 3, 3, 2, 2, 1, 1, 1, 1, groups: 5),
            ["depthwise stride2 wide"] = MakeConv(1, 2, 7, 40, 2, 3, 3, 2, 2, 1, 1, 1, 1, groups: 2),
            ["depthwise asym dilated"] = MakeConv(2, 4, 12, 11, 4, 3, 3, 1, 2, 2, 0, 1, 2, 2, 2, groups: 4),
            ["depthwise 5x5 stride3"] = MakeConv(1, 3, 13, 14, 3, 5, 5, 3, 3, 2, 2, 2, 2, groups: 3),
            ["depthwise multiplier2"] = MakeConv(3, 3, 8, 8, 6, 3, 3, pt: 1, pl: 1, pb: 1, pr: 1, groups: 3),
            ["single input channel"] = MakeConv(3, 1, 9, 10, 4, 3, 3, pt: 1, pl: 1, pb: 1, pr: 1),
            ["single channel 5x5 stride2"] = MakeConv(2, 1, 11, 12, 3, 5, 5, 2, 2, 2, 2, 2, 2),
            ["rect kernel 3x1"] = MakeConv(2, 3, 7, 5, 4, 3, 1, pt: 1, pl: 0, pb: 1, pr: 0),
            ["rect kernel 1x5"] = MakeConv(3, 2, 5, 9, 3, 1, 5, pt: 0, pl: 2, pb: 0, pr: 2),
            ["kernel fills input"] = MakeConv(2, 3, 4, 5, 2, 4, 5),
            ["pads wider than kernel"] = MakeConv(2, 2, 3, 3, 3, 2, 2, pt: 3, pl: 2, pb: 3, pr: 2),
            ["tiny 1x1 image"] = MakeConv(3, 4, 1, 1, 5, 3, 3, pt: 1, pl: 1, pb: 1, pr: 1),
            ["direct dilated asym pads"] = MakeConv(3, 5, 9, 11, 12, 3, 3, pt: 2, pl: 0, pb: 1, pr: 3, dh: 2, dw: 2),
            ["direct 5x5"] = MakeConv(2, 3, 10, 9, 9, 5, 5, pt: 2, pl: 2, pb: 2, pr: 2),
            ["direct 1x3"] = MakeConv(2, 4, 6, 7, 8, 1, 3, pt: 0, pl: 1, pb: 0, pr: 1),
            ["direct no pad"] = MakeConv(3, 6, 8, 9, 16, 3, 3),
            ["direct pads beyond kernel"] = MakeConv(2, 3, 5, 4, 8, 3, 3, pt: 3, pl: 1, pb: 0, pr: 4),
            ["direct grouped"] = MakeConv(3, 8, 6, 6, 16, 3, 3, pt: 1, pl: 1, pb: 1, pr: 1, groups: 2),
            ["by-channel 16 wide"] = MakeConv(2, 3, 9, 30, 16, 3, 3, pt: 1, pl: 1, pb: 1, pr: 1),
            ["by-channel 20 channels stride2"] = MakeConv(2, 5, 11, 17, 20, 3, 3, 2, 2, 1, 1, 1, 1),
            ["by-channel 40 channels asym"] = MakeConv(2, 9, 8, 9, 40, 3, 2, pt: 2, pl: 0, pb: 0, pr: 1),
            ["by-channel 72 channels grouped"] = MakeConv(1, 6, 7, 16, 144, 3, 3, 1, 2, 1, 1, 1, 1, groups: 2),
            ["by-channel 32 channels"] = MakeConv(2, 4, 5, 15, 32, 3, 3, pt: 1, pl: 1, pb: 1, pr: 1),
            ["by-channel 5x5 dilated"] = MakeConv(2, 4, 12, 16, 16, 5, 5, 1, 1, 4, 3, 2, 5, dh: 2, dw: 2),
            ["by-channel kernel 4 wide"] = MakeConv(2, 3, 7, 12, 32, 2, 4, 1, 1, 0, 2, 1, 1),
            // Rows narrower than 14 outputs run in pairs through the 14-position tiles: odd heights (the last pair
            // overlaps), batch 1 (row chunks of odd length), channel counts that leave a single 16-channel vector.
            ["by-channel 64 channels 7x7"] = MakeConv(2, 64, 7, 7, 64, 3, 3, pt: 1, pl: 1, pb: 1, pr: 1),
            ["by-channel 48 channels 7x7 batch1"] = MakeConv(1, 24, 7, 7, 48, 3, 3, pt: 1, pl: 1, pb: 1, pr: 1),
            ["by-channel 36 channels stride2 to 7x7"] = MakeConv(1, 20, 14, 13, 36, 3, 3, 2, 2, 1, 1, 1, 1),
            ["by-channel 16 channels 12 wide 5 rows"] = MakeConv(3, 5, 5, 12, 16, 3, 3, pt: 1, pl: 1, pb: 1, pr: 1),
            // One input channel (a grey-image stem) runs forward by channel; one output channel makes the data
            // gradient's geometry such a layer.
            ["by-channel stem 1->24"] = MakeConv(2, 1, 9, 11, 24, 3, 3, pt: 1, pl: 1, pb: 1, pr: 1),
            ["by-channel 20->1"] = MakeConv(2, 20, 8, 9, 1, 3, 3, pt: 1, pl: 1, pb: 1, pr: 1),
            // Strided 1×1 projections run forward by channel: odd sizes, a short last row pair, batch 1.
            ["by-channel 1x1 stride2"] = MakeConv(2, 8, 9, 15, 20, 1, 1, 2, 2),
            ["by-channel 1x1 stride2 batch1"] = MakeConv(1, 12, 14, 14, 32, 1, 1, 2, 2),
        };

        // Random geometries: a seeded stream so the set is fixed, valid by construction.
        var rng = new Random(20240611);
        for (var i = 0; cases.Count < 52 + 40; i++)
        {
            var groups = rng.Next(4) switch { 0 => 2, 1 => 3, _ => 1 };
            var depthwise = rng.Next(5) == 0;
            var cgi = depthwise ? 1 : rng.Next(1, 5);
            var cgo = depthwise ? rng.Next(1, 3) : rng.Next(1, 5);
            if (depthwise) groups = rng.Next(1, 7);
            var kh = rng.Next(1, 5);
            var kw = rng.Next(1, 5);
            var dh = rng.Next(3) == 0 ? 2 : 1;
            var dw = rng.Next(3) == 0 ? 2 : 1;
            var g = new ConvGeometry(rng.Next(1, 4), cgi * groups, rng.Next(1, 14), rng.Next(1, 14), cgo * groups, kh, kw,
                rng.Next(1, 3), rng.Next(1, 4), rng.Next(0, 3), rng.Next(0, 3), rng.Next(0, 3), rng.Next(0, 3), dh, dw, groups);
            if (g.OutHeight < 1 || g.OutWidth < 1 || (g.DilationH * (kh - 1) + 1) > g.InHeight + g.PadTop + g.PadBottom ||
                (g.DilationW * (kw - 1) + 1) > g.InWidth + g.PadLeft + g.PadRight)
            {
                continue;
            }
            cases[$"random {i:D3}: {g}"] = g;
        }
        return cases;
    }

    private static Dictionary<string, PoolGeometry> BuildPools()
    {
        var cases = new Dictionary<string, PoolGeometry>
        {
            ["2x2 stride2"] = MakePool(3, 4, 8, 8, 2, 2, 2, 2),
            ["2x2 stride2 odd floor"] = MakePool(2, 3, 7, 9, 2, 2, 2, 2),
            ["2x2 stride2 odd ceil"] = MakePool(2, 3, 7, 9, 2, 2, 2, 2, ceil: true),
            ["3x3 stride2 pad1 (resnet stem)"] = MakePool(2, 3, 12, 11, 3, 3, 2, 2, 1, 1, 1, 1),
            ["3x3 stride2 pad1 ceil"] = MakePool(2, 3, 12, 11, 3, 3, 2, 2, 1, 1, 1, 1, ceil: true),
            ["3x3 stride1 pad1"] = MakePool(1, 2, 6, 7, 3, 3, 1, 1, 1, 1, 1, 1),
            ["3x3 stride1 pad1 incl"] = MakePool(1, 2, 6, 7, 3, 3, 1, 1, 1, 1, 1, 1, includePad: true),
            ["asymmetric pads"] = MakePool(2, 2, 7, 8, 3, 3, 2, 2, 0, 2, 1, 0),
            ["asymmetric pads incl"] = MakePool(2, 2, 7, 8, 3, 3, 2, 2, 0, 2, 1, 0, includePad: true),
            ["ceil incl pad"] = MakePool(2, 3, 8, 10, 3, 3, 2, 2, 1, 1, 1, 1, ceil: true, includePad: true),
            ["ceil last window dropped"] = MakePool(1, 2, 5, 5, 3, 3, 3, 3, 1, 1, 1, 1, ceil: true),
            ["ceil last window dropped incl"] = MakePool(1, 2, 5, 5, 3, 3, 3, 3, 1, 1, 1, 1, ceil: true, includePad: true),
            ["ceil overhang incl"] = MakePool(2, 2, 6, 6, 3, 3, 2, 2, 1, 1, 0, 0, ceil: true, includePad: true),
            ["dilation2"] = MakePool(2, 3, 10, 11, 3, 3, 1, 1, 1, 1, 1, 1, 2, 2),
            ["dilation2 stride2 ceil"] = MakePool(2, 3, 10, 11, 2, 3, 2, 2, 1, 0, 1, 0, 2, 2, ceil: true),
            ["rect window"] = MakePool(3, 2, 9, 6, 3, 1, 2, 1, 1, 0, 1, 0),
            ["window fills input"] = MakePool(2, 3, 5, 4, 5, 4, 1, 1),
            ["1x1 stride2"] = MakePool(2, 2, 7, 7, 1, 1, 2, 2),
            ["stride larger than window"] = MakePool(2, 2, 11, 10, 2, 2, 3, 3, ceil: true),
            ["wide rows stride1"] = MakePool(2, 3, 6, 41, 3, 3, 1, 1, 1, 1, 1, 1),
            ["wide rows stride2 (resnet stem)"] = MakePool(2, 3, 9, 71, 3, 3, 2, 2, 1, 1, 1, 1),
            ["wide rows stride2 ceil"] = MakePool(1, 2, 8, 68, 3, 3, 2, 2, 0, 1, 1, 0, ceil: true),
            ["wide rows stride3 dilated"] = MakePool(1, 2, 9, 80, 2, 3, 2, 3, 1, 1, 0, 2, 2, 2),
            ["wide rows 2x2 stride2"] = MakePool(2, 2, 6, 64, 2, 2, 2, 2),
        };
        return cases;
    }
}
