using Acp.Onnx.Analysis;
using Acp.Onnx.Ir;
using static Acp.Onnx.Tests.Analysis.GraphBuilder;

namespace Acp.Onnx.Tests.Analysis;

/// <summary>Shape rules of the layout, indexing and matrix operators, against hand-computed shapes.</summary>
public sealed class TensorShapeTests
{
    private static ShapeInferenceResult Infer(GraphBuilder b, params string[] outputs)
    {
        var result = ShapeInference.Run(b.Build(outputs));
        Assert.Empty(result.Diagnostics);
        return result;
    }

    [Theory]
    [InlineData(new long[] { 0, -1, 5 }, new long[] { 2, 12, 5 })]
    [InlineData(new long[] { -1 }, new long[] { 120 })]
    [InlineData(new long[] { 0, 0, 0, 0 }, new long[] { 2, 3, 4, 5 })]
    [InlineData(new long[] { 4, 0, -1 }, new long[] { 4, 3, 10 })]
    public void ReshapeCopiesZerosAndInfersMinusOne(long[] target, long[] expected)
    {
        var b = new GraphBuilder();
        var y = b.Add("Reshape", [b.Input("x", 2, 3, 4, 5), b.Ints("shape", target)]);
        Assert.Equal(expected, Infer(b, y).KnownShape(y));
    }

    [Fact]
    public void ReshapeWithAllowZeroKeepsZeros()
    {
        var b = new GraphBuilder(14);
        var y = b.Add("Reshape", [b.Input("x", 0, 4), b.Ints("shape", 0, 2, 2)], IntAttr("allowzero", 1));
        Assert.Equal([0, 2, 2], Infer(b, y).KnownShape(y));
    }

    [Fact]
    public void ReshapeToTheWrongElementCountIsReported()
    {
        var b = new GraphBuilder();
        var y = b.Add("Reshape", [b.Input("x", 2, 3), b.Ints("shape", 4, 2)]);
        var result = ShapeInference.Run(b.Build(y));
        Assert.Null(result.ShapeOf(y));
        var message = Assert.Single(result.Diagnostics).Message;
        Assert.Contains("[2,3] (6 elements)", message);
        Assert.Contains("[4,2] (8 elements)", message);
    }

    [Theory]
    [InlineData(0, new long[] { 1, 120 })]
    [InlineData(1, new long[] { 2, 60 })]
    [InlineData(2, new long[] { 6, 20 })]
    [InlineData(4, new long[] { 120, 1 })]
    [InlineData(-1, new long[] { 24, 5 })]
    public void FlattenSplitsAtTheAxis(long axis, long[] expected)
    {
        var b = new GraphBuilder();
        var y = b.Add("Flatten", [b.Input("x", 2, 3, 4, 5)], IntAttr("axis", axis));
        Assert.Equal(expected, Infer(b, y).KnownShape(y));
    }

    [Fact]
    public void GemmWithTransB()
    {
        var b = new GraphBuilder();
        var y = b.Add("Gemm", [b.Input("a", 2, 8), b.Weight("w", 4, 8), b.Weight("c", 4)], IntAttr("transB", 1));
        Assert.Equal([2, 4], Infer(b, y).KnownShape(y));
    }

    [Fact]
    public void GemmWithTransA()
    {
        var b = new GraphBuilder();
        var y = b.Add("Gemm", [b.Input("a", 8, 2), b.Weight("w", 8, 4)], IntAttr("transA", 1));
        Assert.Equal([2, 4], Infer(b, y).KnownShape(y));
    }

    [Fact]
    public void GemmInnerDimensionMismatchIsReportedWithTheNumbers()
    {
        var b = new GraphBuilder();
        var y = b.Add("Gemm", [b.Input("a", 2, 8), b.Weight("w", 4, 7)], IntAttr("transB", 1));
        var result = ShapeInference.Run(b.Build(y));
        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Contains("K = 8", diagnostic.Message);
        Assert.Contains("K = 7", diagnostic.Message);
        Assert.StartsWith("Gemm_0 (Gemm): ", diagnostic.ToString());
    }

    [Theory]
    [InlineData(new long[] { 2, 1, 3, 4 }, new long[] { 5, 4, 6 }, new long[] { 2, 5, 3, 6 })]
    [InlineData(new long[] { 4 }, new long[] { 4, 6 }, new long[] { 6 })]
    [InlineData(new long[] { 2, 3, 4 }, new long[] { 4 }, new long[] { 2, 3 })]
    [InlineData(new long[] { 4 }, new long[] { 4 }, new long[] { })]
    [InlineData(new long[] { 7, 3, 4 }, new long[] { 4, 2 }, new long[] { 7, 3, 2 })]
    public void MatMulFollowsNumpy(long[] a, long[] w, long[] expected)
    {
        var b = new GraphBuilder();
        var y = b.Add("MatMul", [b.Input("a", a), b.Weight("w", w)]);
        Assert.Equal(expected, Infer(b, y).KnownShape(y));
    }

    [Fact]
    public void ElementwiseOpsBroadcast()
    {
        var b = new GraphBuilder();
        var y = b.Add("Add", [b.Input("x", 2, 3, 1, 5), b.Input("z", 4, 1)]);
        Assert.Equal([2, 3, 4, 5], Infer(b, y).KnownShape(y));
    }

    [Fact]
    public void IncompatibleBroadcastIsReported()
    {
        var b = new GraphBuilder();
        var y = b.Add("Mul", [b.Input("x", 2, 3), b.Input("z", 4)]);
        var result = ShapeInference.Run(b.Build(y));
        Assert.Contains("[2,3], [4]", Assert.Single(result.Diagnostics).Message);
    }

    [Fact]
    public void SplitEquallyWhenNoSizesAreGiven()
    {
        var b = new GraphBuilder();
        var ys = b.AddMany("Split", [b.Input("x", 2, 6, 4)], 3, IntAttr("axis", 1));
        var result = Infer(b, ys);
        Assert.All(ys, y => Assert.Equal([2, 2, 4], result.KnownShape(y)));
    }

    [Fact]
    public void SplitSizesFromTheInputInOpset13()
    {
        var b = new GraphBuilder(13);
        var ys = b.AddMany("Split", [b.Input("x", 2, 6), b.Ints("split", 1, 5)], 2, IntAttr("axis", -1));
        var result = Infer(b, ys);
        Assert.Equal([2, 1], result.KnownShape(ys[0]));
        Assert.Equal([2, 5], result.KnownShape(ys[1]));
    }

    [Fact]
    public void SplitSizesFromTheAttributeInOpset11()
    {
        var b = new GraphBuilder(11);
        var ys = b.AddMany("Split", [b.Input("x", 6, 2)], 2, IntsAttr("split", 4, 2));
        var result = Infer(b, ys);
        Assert.Equal([4, 2], result.KnownShape(ys[0]));
        Assert.Equal([2, 2], result.KnownShape(ys[1]));
    }

    [Fact]
    public void SplitWithNumOutputsGivesTheLastChunkTheRest()
    {
        var b = new GraphBuilder(18);
        var ys = b.AddMany("Split", [b.Input("x", 10)], 4, IntAttr("num_outputs", 4));
        var result = Infer(b, ys);
        Assert.Equal([[3], [3], [3], [1]], ys.Select(y => result.KnownShape(y)!).ToArray());
    }

    [Fact]
    public void SplitSizesThatDoNotAddUpAreReported()
    {
        var b = new GraphBuilder();
        var ys = b.AddMany("Split", [b.Input("x", 2, 6), b.Ints("split", 2, 2)], 2, IntAttr("axis", 1));
        Assert.Contains("axis 1 of size 6", Assert.Single(ShapeInference.Run(b.Build(ys)).Diagnostics).Message);
    }

    [Theory]
    // starts, ends, axes, steps over x [10, 20]
    [InlineData(new long[] { -3 }, new long[] { long.MaxValue }, new long[] { 0 }, new long[] { 1 }, new long[] { 3, 20 })]
    [InlineData(new long[] { 1, 2 }, new long[] { -1, -2 }, new long[] { 0, 1 }, new long[] { 1, 1 }, new long[] { 8, 16 })]
    [InlineData(new long[] { -1 }, new long[] { long.MinValue }, new long[] { 1 }, new long[] { -2 }, new long[] { 10, 10 })]
    [InlineData(new long[] { 100 }, new long[] { -100 }, new long[] { -1 }, new long[] { -1 }, new long[] { 10, 20 })]
    [InlineData(new long[] { 0 }, new long[] { 10 }, new long[] { 1 }, new long[] { 3 }, new long[] { 10, 4 })]
    [InlineData(new long[] { 5 }, new long[] { 2 }, new long[] { 0 }, new long[] { 1 }, new long[] { 0, 20 })]
    [InlineData(new long[] { 8 }, new long[] { 2 }, new long[] { 0 }, new long[] { -3 }, new long[] { 2, 20 })]
    public void SliceClampsLikeNumpy(long[] starts, long[] ends, long[] axes, long[] steps, long[] expected)
    {
        var b = new GraphBuilder();
        var y = b.Add("Slice", [b.Input("x", 10, 20), b.Ints("starts", starts), b.Ints("ends", ends), b.Ints("axes", axes), b.Ints("steps", steps)]);
        Assert.Equal(expected, Infer(b, y).KnownShape(y));
    }

    [Fact]
    public void SliceOpset1TakesAttributes()
    {
        var b = new GraphBuilder(9);
        var y = b.Add("Slice", [b.Input("x", 10, 20)], IntsAttr("starts", 2, -5), IntsAttr("ends", 4, 1000));
        Assert.Equal([2, 5], Infer(b, y).KnownShape(y));
    }

    [Fact]
    public void SliceOfAConstantIsFolded()
    {
        var b = new GraphBuilder();
        var shape = b.Add("Shape", [b.Input("x", 2, 3, 4, 5)]);
        var y = b.Add("Slice", [shape, b.Ints("starts", -1), b.Ints("ends", 0), b.Ints("axes", 0), b.Ints("steps", -2)]);
        var result = Infer(b, y);
        Assert.Equal([2], result.KnownShape(y));
        Assert.Equal([5, 3], result.Constants[y].Int64s);
    }

    [Fact]
    public void SqueezeAndUnsqueezeTakeAxesFromTheInputInOpset13()
    {
        var b = new GraphBuilder(13);
        var squeezed = b.Add("Squeeze", [b.Input("x", 1, 3, 1, 5), b.Ints("axes", 0, -2)]);
        var unsqueezed = b.Add("Unsqueeze", [squeezed, b.Ints("uaxes", 0, -1)]);
        var all = b.Add("Squeeze", [b.Input("z", 1, 4, 1)]);
        var result = Infer(b, unsqueezed, all);
        Assert.Equal([3, 5], result.KnownShape(squeezed));
        Assert.Equal([1, 3, 5, 1], result.KnownShape(unsqueezed));
        Assert.Equal([4], result.KnownShape(all));
    }

    [Fact]
    public void SqueezeAndUnsqueezeTakeAxesFromTheAttributeInOpset11()
    {
        var b = new GraphBuilder(11);
        var squeezed = b.Add("Squeeze", [b.Input("x", 1, 3, 1, 5)], IntsAttr("axes", 2));
        var unsqueezed = b.Add("Unsqueeze", [squeezed], IntsAttr("axes", 1, 4));
        var result = Infer(b, unsqueezed);
        Assert.Equal([1, 3, 5], result.KnownShape(squeezed));
        Assert.Equal([1, 1, 3, 5, 1], result.KnownShape(unsqueezed));
    }

    [Fact]
    public void SqueezingADimensionOtherThanOneIsReported()
    {
        var b = new GraphBuilder();
        var y = b.Add("Squeeze", [b.Input("x", 1, 3), b.Ints("axes", 1)]);
        Assert.Contains("size is 3", Assert.Single(ShapeInference.Run(b.Build(y)).Diagnostics).Message);
    }

    [Fact]
    public void ConcatAddsUpTheAxis()
    {
        var b = new GraphBuilder();
        var y = b.Add("Concat", [b.Input("a", 1, 2, 4, 4), b.Input("c", 1, 3, 4, 4), b.Input("d", 1, 1, 4, 4)], IntAttr("axis", -3));
        Assert.Equal([1, 6, 4, 4], Infer(b, y).KnownShape(y));
    }

    [Fact]
    public void ConcatWithMismatchedDimensionsIsReported()
    {
        var b = new GraphBuilder();
        var y = b.Add("Concat", [b.Input("a", 1, 2, 4, 4), b.Input("c", 1, 3, 4, 5)], IntAttr("axis", 1));
        var message = Assert.Single(ShapeInference.Run(b.Build(y)).Diagnostics).Message;
        Assert.Contains("[1,3,4,5]", message);
        Assert.Contains("[1,2,4,4]", message);
    }

    [Fact]
    public void PadTakesPadsFromTheInputInOpset11AndTheAttributeBefore()
    {
        var b = new GraphBuilder(13);
        var y = b.Add("Pad", [b.Input("x", 1, 2, 4, 4), b.Ints("pads", 0, 0, 1, 2, 0, 0, 1, -1)]);
        Assert.Equal([1, 2, 6, 5], Infer(b, y).KnownShape(y));

        var old = new GraphBuilder(2);
        var z = old.Add("Pad", [old.Input("x", 1, 2, 4, 4)], IntsAttr("pads", 0, 0, 1, 1, 0, 0, 1, 1));
        Assert.Equal([1, 2, 6, 6], Infer(old, z).KnownShape(z));
    }

    [Fact]
    public void TransposePermutesAndDefaultsToReversing()
    {
        var b = new GraphBuilder();
        var y = b.Add("Transpose", [b.Input("x", 2, 3, 4)], IntsAttr("perm", 1, 2, 0));
        var z = b.Add("Transpose", [y]);
        var result = Infer(b, z);
        Assert.Equal([3, 4, 2], result.KnownShape(y));
        Assert.Equal([2, 4, 3], result.KnownShape(z));
    }

    [Fact]
    public void ReduceMeanKeepsOrDropsAxes()
    {
        var b = new GraphBuilder(13);
        var kept = b.Add("ReduceMean", [b.Input("x", 2, 3, 4, 5)], IntsAttr("axes", 2, 3));
        var dropped = b.Add("ReduceMean", ["x"], IntsAttr("axes", -1), IntAttr("keepdims", 0));
        var sum = b.Add("ReduceSum", ["x", b.Ints("axes", 1)], IntAttr("keepdims", 0));
        var all = b.Add("ReduceSum", ["x"]);
        var result = Infer(b, kept, dropped, sum, all);
        Assert.Equal([2, 3, 1, 1], result.KnownShape(kept));
        Assert.Equal([2, 3, 4], result.KnownShape(dropped));
        Assert.Equal([2, 4, 5], result.KnownShape(sum));
        Assert.Equal([1, 1, 1, 1], result.KnownShape(all));
    }

    [Fact]
    public void ResizeWithConstantScalesOrSizes()
    {
        var b = new GraphBuilder(13);
        var x = b.Input("x", 1, 3, 5, 7);
        var scaled = b.Add("Resize", [x, "", b.Floats("scales", [4], 1, 1, 2, 0.5f)]);
        var sized = b.Add("Resize", [x, "", "", b.Ints("sizes", 1, 3, 9, 9)]);
        var result = Infer(b, scaled, sized);
        Assert.Equal([1, 3, 10, 3], result.KnownShape(scaled));
        Assert.Equal([1, 3, 9, 9], result.KnownShape(sized));
    }

    [Fact]
    public void GatherReplacesTheAxisByTheIndicesShape()
    {
        var b = new GraphBuilder();
        var y = b.Add("Gather", [b.Input("x", 5, 6, 7), b.Ints("idx", 0, 2, -1)], IntAttr("axis", 1));
        Assert.Equal([5, 3, 7], Infer(b, y).KnownShape(y));
    }

    [Fact]
    public void ShapeGatherUnsqueezeConcatReshapeChainResolves()
    {
        // What torch.onnx emits for x.view(x.size(0), -1).
        var b = new GraphBuilder(13);
        var x = b.Input("x", [Dimension.Symbolic("batch"), Dimension.Fixed(8), Dimension.Fixed(2), Dimension.Fixed(2)]);
        var shape = b.Add("Shape", [x]);
        var batch = b.Add("Gather", [shape, b.ConstantInts([], 0)], IntAttr("axis", 0));
        var batchVector = b.Add("Unsqueeze", [batch, b.ConstantInts([1], 0)]);
        var minusOne = b.Add("Unsqueeze", [b.ConstantInts([], -1), b.ConstantInts([1], 0)]);
        var target = b.Add("Concat", [batchVector, minusOne], IntAttr("axis", 0));
        var flat = b.Add("Reshape", [x, target]);
        var logits = b.Add("Gemm", [flat, b.Weight("w", 10, 32)], IntAttr("transB", 1));
        var model = b.Build(logits);

        var result = ShapeInference.Run(model);
        Assert.Empty(result.Diagnostics);
        Assert.Equal([1, -1], result.Constants[target].Int64s);
        Assert.Equal([1, 32], result.KnownShape(flat));
        Assert.Equal([1, 10], result.KnownShape(logits));

        var batch4 = ShapeInference.Run(model, new Dictionary<string, long[]> { ["x"] = [4, 8, 2, 2] });
        Assert.Equal([4, -1], batch4.Constants[target].Int64s);
        Assert.Equal([4, 10], batch4.KnownShape(logits));
    }

    [Fact]
    public void ArithmeticOnShapesIsFolded()
    {
        // Shape -> Slice -> Mul / Div / Cast chains size Reshape, Expand and ConstantOfShape targets.
        var b = new GraphBuilder(13);
        var x = b.Input("x", 2, 3, 8, 8);
        var hw = b.Add("Slice", [b.Add("Shape", [x]), b.Ints("s", 2), b.Ints("e", 4)]);
        var doubled = b.Add("Mul", [hw, b.Ints("two", 2)]);
        var halved = b.Add("Div", [doubled, b.Ints("four", 4)]);
        var asFloat = b.Add("Cast", [halved], IntAttr("to", (long)ElementType.Float));
        var filled = b.Add("ConstantOfShape", [halved]);
        var expanded = b.Add("Expand", [b.Floats("one", [1], 1), b.Add("Concat", [b.Ints("lead", 2, 1), halved], IntAttr("axis", 0))]);
        var range = b.Add("Range", [b.ConstantInts([], 0), b.Add("Squeeze", [b.Add("Slice", [halved, b.Ints("s0", 0), b.Ints("e0", 1)])]), b.ConstantInts([], 1)]);
        var result = Infer(b, asFloat, filled, expanded, range);
        Assert.Equal([8, 8], result.Constants[hw].Int64s);
        Assert.Equal([4, 4], result.Constants[halved].Int64s);
        Assert.Equal([4f, 4f], result.Constants[asFloat].Floats);
        Assert.Equal(ElementType.Float, result.ElementTypes[asFloat]);
        Assert.Equal([4, 4], result.KnownShape(filled));
        Assert.Equal([2, 1, 4, 4], result.KnownShape(expanded));
        Assert.Equal([0, 1, 2, 3], result.Constants[range].Int64s);
    }

    [Fact]
    public void EqualAndWhereAreFolded()
    {
        // torch's reshape with a -1 read from a shape: Where(Equal(s, 0), original, s).
        var b = new GraphBuilder(13);
        var target = b.Ints("target", 0, 6);
        var original = b.Add("Shape", [b.Input("x", 2, 3, 2)]);
        var isZero = b.Add("Equal", [target, b.Ints("zero", 0)]);
        var resolved = b.Add("Where", [isZero, b.Add("Slice", [original, b.Ints("s", 0), b.Ints("e", 2)]), target]);
        var result = Infer(b, resolved);
        Assert.Equal([1, 0], result.Constants[isZero].Int64s);
        Assert.Equal(ElementType.Bool, result.ElementTypes[isZero]);
        Assert.Equal([2, 6], result.Constants[resolved].Int64s);
    }

    [Fact]
    public void ConstantAttributesOfEveryKindHaveShapes()
    {
        var b = new GraphBuilder();
        var f = b.Add("Constant", [], NodeAttribute.FromFloat("value_float", 2f));
        var fs = b.Add("Constant", [], NodeAttribute.FromFloats("value_floats", [1f, 2f, 3f]));
        var i = b.Add("Constant", [], IntAttr("value_int", 7));
        var ints = b.Add("Constant", [], IntsAttr("value_ints", 1, 2));
        var result = Infer(b, f, fs, i, ints);
        Assert.Equal([], result.KnownShape(f));
        Assert.Equal([3], result.KnownShape(fs));
        Assert.Equal([7], result.Constants[i].Int64s);
        Assert.Equal([2], result.KnownShape(ints));
    }

    [Fact]
    public void LargeTensorsAreNotFolded()
    {
        var b = new GraphBuilder();
        var y = b.Add("ConstantOfShape", [b.Ints("shape", 64, 64)]);
        var result = Infer(b, y);
        Assert.Equal([64, 64], result.KnownShape(y));
        Assert.False(result.Constants.ContainsKey(y));
    }
}
