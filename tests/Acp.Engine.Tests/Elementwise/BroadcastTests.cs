using Acp.Engine.Kernels;
using static Acp.Engine.Tests.Elementwise.ElementwiseTestSupport;

namespace Acp.Engine.Tests.Elementwise;

public class BroadcastTests
{
    /// <summary>The shape pairs of the brief plus the edge cases: rank 0, broadcast first operand, both broadcast, empty.</summary>
    public static readonly int[][][] ShapePairs =
    [
        [[2, 3, 4, 5], [2, 3, 4, 5]],
        [[2, 3, 4, 5], [3, 1, 1]],
        [[2, 3, 4, 5], [1, 3, 1, 1]],
        [[2, 3, 4, 5], [1]],
        [[2, 3, 4, 5], []],
        [[2, 3, 4, 5], [5]],
        [[2, 3, 4, 5], [4, 5]],
        [[2, 3, 4, 5], [3, 4, 1]],
        [[2, 1, 4, 1], [1, 3, 1, 5]],
        [[1, 3, 1, 5], [2, 1, 4, 1]],
        [[3, 1, 1], [2, 3, 4, 5]],
        [[1], [2, 3, 4, 5]],
        [[3, 1], [1, 4]],
        [[2, 3, 1, 5], [4, 1]],
        [[1, 1], [1]],
        [[], []],
        [[6, 1, 1, 7], [6, 5, 3, 7]],
        [[0, 3], [3]],
        [[1, 3], [0, 1]],
        // Large enough for the parallel paths: per-channel, long rows, a scalar.
        [[8, 64, 16, 16], [64, 1, 1]],
        [[8, 64, 16, 16], [8, 64, 16, 16]],
        [[8, 64, 16, 16], [1]],
        [[8, 64, 16, 16], [16]],
        [[8, 1, 16, 16], [1, 64, 1, 1]],
    ];

    public static TheoryData<BinaryOp, int> Cases()
    {
        var data = new TheoryData<BinaryOp, int>();
        foreach (var op in Enum.GetValues<BinaryOp>())
        {
            for (var k = 0; k < ShapePairs.Length; k++)
            {
                data.Add(op, k);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_and_backward_match_the_reference(BinaryOp op, int pair)
    {
        var (shapeA, shapeB) = (ShapePairs[pair][0], ShapePairs[pair][1]);
        Check(op, shapeA, shapeB, new Random(pair * 10 + (int)op));
    }

    [Fact]
    public void Random_shapes_match_the_reference()
    {
        var rng = new Random(99);
        for (var trial = 0; trial < 300; trial++)
        {
            var rank = rng.Next(0, 6);
            var full = Enumerable.Range(0, rank).Select(_ => rng.Next(1, 5)).ToArray();
            var shapeA = Derive(full, rng);
            var shapeB = Derive(full, rng);
            Check(Enum.GetValues<BinaryOp>()[trial % 4], shapeA, shapeB, rng);
        }

        // A broadcast partner of `full`: a suffix of it with some axes set to 1.
        static int[] Derive(int[] full, Random rng)
        {
            var drop = rng.Next(0, full.Length + 1);
            return [.. full.Skip(drop).Select(d => rng.Next(3) == 0 ? 1 : d)];
        }
    }

    private static void Check(BinaryOp op, int[] shapeA, int[] shapeB, Random rng)
    {
        var shapeY = Broadcast.ResultShape(shapeA, shapeB);
        Assert.Equal(ReferenceBroadcast.ResultShape(shapeA, shapeB), shapeY);
        int countA = Count(shapeA), countB = Count(shapeB), countY = Count(shapeY);
        var what = $"{op} {Show(shapeA)} {Show(shapeB)}";
        var a = RandomFloats(rng, countA, slack: 2);
        // Divisors bounded away from 0 so the relative tolerance means something.
        var b = RandomFloats(rng, countB, 0.5, 2, slack: 2);
        for (var i = 0; i < countB; i++)
        {
            b[i] = rng.Next(2) == 0 ? b[i] : -b[i];
        }

        var dy = RandomFloats(rng, countY, slack: 2);
        var y = Poisoned(countY);
        var da = Poisoned(countA);
        var db = Poisoned(countB);

        Broadcast.Forward(op, shapeA, a, shapeB, b, shapeY, y);
        Broadcast.Backward(op, shapeA, a, shapeB, b, shapeY, dy, da, db);

        var ad = ToDouble(a, countA);
        var bd = ToDouble(b, countB);
        AssertClose(ReferenceBroadcast.Forward(op, shapeA, ad, shapeB, bd), y, 1e-6, 0, $"{what} y");
        var (eda, edb) = ReferenceBroadcast.Backward(op, shapeA, ad, shapeB, bd, ToDouble(dy, countY));
        // Reduced gradients are sums of up to thousands of terms of either sign: their error scales with the terms.
        AssertClose(eda, da, 1e-4, 1e-5 * Math.Sqrt(1 + countY), $"{what} da");
        AssertClose(edb, db, 1e-4, 1e-5 * Math.Sqrt(1 + countY), $"{what} db");
        AssertSlackUntouched(y, countY);
        AssertSlackUntouched(da, countA);
        AssertSlackUntouched(db, countB);

        // Each gradient alone equals the one computed together.
        var onlyA = new float[countA];
        Broadcast.Backward(op, shapeA, a, shapeB, b, shapeY, dy, onlyA, null);
        Assert.Equal(da[..countA], onlyA);
        var onlyB = new float[countB];
        Broadcast.Backward(op, shapeA, a, shapeB, b, shapeY, dy, null, onlyB);
        Assert.Equal(db[..countB], onlyB);
    }

    [Fact]
    public void Reduced_gradients_are_bitwise_reproducible()
    {
        int[] shapeA = [16, 64, 24, 24];
        int[] shapeB = [64, 1, 1];
        var rng = new Random(7);
        var a = RandomFloats(rng, Count(shapeA));
        var b = RandomFloats(rng, 64);
        var dy = RandomFloats(rng, Count(shapeA));
        var first = new float[64];
        Broadcast.Backward(BinaryOp.Mul, shapeA, a, shapeB, b, shapeA, dy, null, first);
        for (var repeat = 0; repeat < 3; repeat++)
        {
            var again = new float[64];
            Broadcast.Backward(BinaryOp.Mul, shapeA, a, shapeB, b, shapeA, dy, null, again);
            Assert.Equal(first, again);
        }

        var scalarFirst = new float[1];
        var scalarAgain = new float[1];
        Broadcast.Backward(BinaryOp.Add, shapeA, a, [1], b, shapeA, dy, null, scalarFirst);
        Broadcast.Backward(BinaryOp.Add, shapeA, a, [1], b, shapeA, dy, null, scalarAgain);
        Assert.Equal(scalarFirst, scalarAgain);
    }

    [Fact]
    public void Forward_may_write_over_the_full_size_operand()
    {
        int[] shapeA = [2, 3, 4];
        int[] shapeB = [3, 1];
        var rng = new Random(8);
        var a = RandomFloats(rng, 24);
        var b = RandomFloats(rng, 3, 1, 2);
        var expected = new float[24];
        Broadcast.Forward(BinaryOp.Div, shapeA, a, shapeB, b, shapeA, expected);

        Broadcast.Forward(BinaryOp.Div, shapeA, a, shapeB, b, shapeA, a);

        Assert.Equal(expected, a);
    }

    [Fact]
    public void Incompatible_shapes_and_wrong_result_shapes_are_rejected_with_the_shapes()
    {
        var clash = Assert.Throws<ArgumentException>(() =>
            Broadcast.Forward(BinaryOp.Add, [2, 3], new float[6], [4], new float[4], [2, 3], new float[6]));
        Assert.Contains("[2,3]", clash.Message);
        Assert.Contains("[4]", clash.Message);

        var wrongY = Assert.Throws<ArgumentException>(() =>
            Broadcast.Forward(BinaryOp.Add, [2, 3], new float[6], [3], new float[3], [1, 2, 3], new float[6]));
        Assert.Contains("[1,2,3]", wrongY.Message);

        var shortB = Assert.Throws<ArgumentException>(() =>
            Broadcast.Forward(BinaryOp.Mul, [2, 3], new float[6], [2, 3], new float[5], [2, 3], new float[6]));
        Assert.Contains("5", shortB.Message);
        Assert.Contains("6", shortB.Message);
    }

    private static string Show(int[] shape) => "[" + string.Join(",", shape) + "]";
}
