using System.Buffers;
using System.Numerics.Tensors;

namespace Acp.Engine.Kernels;

/// <summary>The elementwise binary operators of <see cref="Broadcast"/>: ONNX Add, Sub, Mul and Div.</summary>
public enum BinaryOp
{
    /// <summary>y = a + b.</summary>
    Add,

    /// <summary>y = a − b.</summary>
    Sub,

    /// <summary>y = a · b.</summary>
    Mul,

    /// <summary>y = a / b (IEEE division: x/0 is ±∞ or NaN, no exception).</summary>
    Div,
}

/// <summary>
/// Elementwise binary operators with numpy (ONNX multidirectional) broadcasting on arbitrary ranks. Shapes are
/// aligned at their last axis; missing leading axes count as 1, and along each axis the sizes must be equal or one of
/// them 1, which is then repeated. Buffers are row-major and may be longer than their shape's element count.
/// </summary>
/// <remarks>
/// Both directions first drop the result's size-1 axes and merge neighbouring axes that broadcast alike, so the
/// common cases reduce to a few rows of one TensorPrimitives call each: equal shapes become one row, a [1,C,1,1] or
/// [C,1,1] operand against NCHW becomes N·C rows with a scalar operand, and a scalar operand is one row.
/// </remarks>
public static class Broadcast
{
    /// <summary>
    /// The broadcast result shape of <paramref name="shapeA"/> and <paramref name="shapeB"/> (numpy rules);
    /// throws <see cref="ArgumentException"/> naming the clashing axis when they do not broadcast.
    /// </summary>
    public static int[] ResultShape(int[] shapeA, int[] shapeB)
    {
        CheckShape(shapeA, nameof(shapeA));
        CheckShape(shapeB, nameof(shapeB));
        var rank = Math.Max(shapeA.Length, shapeB.Length);
        var result = new int[rank];
        for (var axis = 0; axis < rank; axis++)
        {
            var da = Dim(shapeA, axis, rank);
            var db = Dim(shapeB, axis, rank);
            if (da != db && da != 1 && db != 1)
            {
                throw new ArgumentException(
                    $"Shapes {Format(shapeA)} and {Format(shapeB)} do not broadcast: axis {axis} of the aligned result has sizes {da} and {db}.",
                    nameof(shapeB));
            }

            result[axis] = da == 1 ? db : da;
        }

        return result;
    }

    /// <summary>
    /// y = a op b with broadcasting: y[i] = a[i restricted to A's axes] op b[i restricted to B's axes], for every
    /// index i of <paramref name="shapeY"/>, which must be exactly <see cref="ResultShape"/>(shapeA, shapeB).
    /// y may be a or b when that operand has the result's element count.
    /// </summary>
    public static void Forward(BinaryOp op, int[] shapeA, float[] a, int[] shapeB, float[] b, int[] shapeY, float[] y)
    {
        var plan = Plan.Create(shapeA, shapeB, shapeY);
        ElementwiseArgs.Length(a, plan.CountA, $"the element count of {Format(shapeA)}");
        ElementwiseArgs.Length(b, plan.CountB, $"the element count of {Format(shapeB)}");
        ElementwiseArgs.Length(y, plan.CountY, $"the element count of {Format(shapeY)}");
        CheckOp(op);
        Apply(op, plan, a, b, y);
    }

    /// <summary>
    /// Gradients of <see cref="Forward"/> given dy = ∂L/∂y, each summed over the axes its operand was broadcast along
    /// (in double, in a fixed order, so the result is bitwise reproducible):
    /// Add: da = Σ dy, db = Σ dy; Sub: da = Σ dy, db = −Σ dy; Mul: da = Σ dy·b, db = Σ dy·a;
    /// Div: da = Σ dy/b, db = −Σ dy·a/b². Either output may be null when that gradient is not needed (then the
    /// corresponding other operand is not read either, e.g. Mul with db = null does not read a). a and b are the
    /// forward inputs. The outputs must not overlap dy, a or b.
    /// </summary>
    public static void Backward(BinaryOp op, int[] shapeA, float[] a, int[] shapeB, float[] b, int[] shapeY, float[] dy, float[]? da, float[]? db)
    {
        var plan = Plan.Create(shapeA, shapeB, shapeY);
        CheckOp(op);
        ElementwiseArgs.Length(dy, plan.CountY, $"the element count of {Format(shapeY)}");
        ElementwiseArgs.OptionalLength(da, plan.CountA, $"the element count of {Format(shapeA)}");
        ElementwiseArgs.OptionalLength(db, plan.CountB, $"the element count of {Format(shapeB)}");
        var needA = op is BinaryOp.Mul or BinaryOp.Div && db is not null;
        var needB = op is BinaryOp.Mul or BinaryOp.Div;
        if (needA)
        {
            ElementwiseArgs.Length(a, plan.CountA, $"the element count of {Format(shapeA)}");
        }

        if (needB && (da is not null || db is not null))
        {
            ElementwiseArgs.Length(b, plan.CountB, $"the element count of {Format(shapeB)}");
        }

        var yShape = plan.ShapeY;
        if (da is not null)
        {
            switch (op)
            {
                case BinaryOp.Add:
                case BinaryOp.Sub:
                    ReduceTo(yShape, dy, shapeA, da, negate: false);
                    break;
                case BinaryOp.Mul:
                case BinaryOp.Div:
                    // da = reduce(dy ∘ b), ∘ being · or /.
                    WithProduct(op, yShape, dy, shapeB, b, shapeA, da);
                    break;
            }
        }

        if (db is not null)
        {
            switch (op)
            {
                case BinaryOp.Add:
                    ReduceTo(yShape, dy, shapeB, db, negate: false);
                    break;
                case BinaryOp.Sub:
                    ReduceTo(yShape, dy, shapeB, db, negate: true);
                    break;
                case BinaryOp.Mul:
                    WithProduct(BinaryOp.Mul, yShape, dy, shapeA, a, shapeB, db);
                    break;
                case BinaryOp.Div:
                {
                    // −dy·a/b² as ((dy·a)/b)/b: b² alone overflows for |b| > ~1.8e19 (and underflows to 0 for |b| < ~1e-19)
                    // where the quotients are still finite.
                    var count = (int)plan.CountY;
                    var t = ArrayPool<float>.Shared.Rent(Math.Max(1, count));
                    try
                    {
                        Apply(BinaryOp.Mul, Plan.Create(yShape, shapeA, yShape), dy, a, t);
                        var divide = Plan.Create(yShape, shapeB, yShape);
                        Apply(BinaryOp.Div, divide, t, b, t);
                        Apply(BinaryOp.Div, divide, t, b, t);
                        ReduceTo(yShape, t, shapeB, db, negate: true);
                    }
                    finally
                    {
                        ArrayPool<float>.Shared.Return(t);
                    }

                    break;
                }
            }
        }
    }

    /// <summary>target = reduce(dy ∘ other) to targetShape; written straight into target when nothing is reduced.</summary>
    private static void WithProduct(BinaryOp op, int[] shapeY, float[] dy, int[] shapeOther, float[] other, int[] shapeTarget, float[] target)
    {
        var product = Plan.Create(shapeY, shapeOther, shapeY);
        if (Count(shapeTarget) == product.CountY)
        {
            // The target was not broadcast, so the product already has its layout.
            Apply(op, product, dy, other, target);
            return;
        }

        var t = ArrayPool<float>.Shared.Rent((int)Math.Max(1, product.CountY));
        try
        {
            Apply(op, product, dy, other, t);
            ReduceTo(shapeY, t, shapeTarget, target, negate: false);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(t);
        }
    }

    /// <summary>Runs a validated plan: rows of the innermost merged axis, each one TensorPrimitives call.</summary>
    private static void Apply(BinaryOp op, Plan plan, float[] a, float[] b, float[] y)
    {
        if (plan.CountY == 0)
        {
            return;
        }

        var rank = plan.Dims.Length;
        if (rank == 0)
        {
            y[0] = Scalar(op, a[0], b[0]);
            return;
        }

        var inner = plan.Dims[rank - 1];
        var innerA = plan.StridesA[rank - 1];
        var innerB = plan.StridesB[rank - 1];
        var rows = (int)(plan.CountY / inner);

        // Long rows are cut into blocks so that a single big row (equal shapes, scalar operand) still spreads over
        // the cores; short rows are grouped so that each task has enough work to pay for itself.
        var pieces = (inner + ElementwiseParallel.Block - 1) / ElementwiseParallel.Block;
        var pieceLength = (inner + pieces - 1) / pieces;
        var tasks = (long)rows * pieces;
        var tasksPerGroup = (int)Math.Max(1, ElementwiseParallel.Block / Math.Max(1, pieceLength));
        var groups = (int)((tasks + tasksPerGroup - 1) / tasksPerGroup);
        ElementwiseParallel.For(groups, (long)tasksPerGroup * pieceLength, g =>
        {
            var end = Math.Min(tasks, (long)(g + 1) * tasksPerGroup);
            for (var task = (long)g * tasksPerGroup; task < end; task++)
            {
                var row = (int)(task / pieces);
                var start = (int)(task % pieces) * pieceLength;
                var len = Math.Min(pieceLength, inner - start);
                plan.RowOffsets(row, out var offA, out var offB);
                var ys = y.AsSpan(row * inner + start, len);
                if (innerA != 0 && innerB != 0)
                {
                    Rows(op, a.AsSpan((int)offA + start, len), b.AsSpan((int)offB + start, len), ys);
                }
                else if (innerA != 0)
                {
                    RowScalarB(op, a.AsSpan((int)offA + start, len), b[offB], ys);
                }
                else
                {
                    RowScalarA(op, a[offA], b.AsSpan((int)offB + start, len), ys);
                }
            }
        });
    }

    private static void Rows(BinaryOp op, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y)
    {
        switch (op)
        {
            case BinaryOp.Add: TensorPrimitives.Add(a, b, y); break;
            case BinaryOp.Sub: TensorPrimitives.Subtract(a, b, y); break;
            case BinaryOp.Mul: TensorPrimitives.Multiply(a, b, y); break;
            default: TensorPrimitives.Divide(a, b, y); break;
        }
    }

    private static void RowScalarB(BinaryOp op, ReadOnlySpan<float> a, float b, Span<float> y)
    {
        switch (op)
        {
            case BinaryOp.Add: TensorPrimitives.Add(a, b, y); break;
            case BinaryOp.Sub: TensorPrimitives.Subtract(a, b, y); break;
            case BinaryOp.Mul: TensorPrimitives.Multiply(a, b, y); break;
            // Division, not multiplication by 1/b: the reciprocal would round differently from ONNX's a/b.
            default: TensorPrimitives.Divide(a, b, y); break;
        }
    }

    private static void RowScalarA(BinaryOp op, float a, ReadOnlySpan<float> b, Span<float> y)
    {
        switch (op)
        {
            case BinaryOp.Add: TensorPrimitives.Add(b, a, y); break;
            case BinaryOp.Sub: TensorPrimitives.Subtract(a, b, y); break;
            case BinaryOp.Mul: TensorPrimitives.Multiply(b, a, y); break;
            default: TensorPrimitives.Divide(a, b, y); break;
        }
    }

    private static float Scalar(BinaryOp op, float a, float b) => op switch
    {
        BinaryOp.Add => a + b,
        BinaryOp.Sub => a - b,
        BinaryOp.Mul => a * b,
        _ => a / b,
    };

    /// <summary>
    /// target = ±(source summed over the axes along which targetShape is broadcast to sourceShape). sourceShape must be
    /// the broadcast of targetShape with itself and something else (the forward's result shape). Sums are in double;
    /// each target element is produced by one task in a fixed order.
    /// </summary>
    private static void ReduceTo(int[] sourceShape, float[] source, int[] targetShape, float[] target, bool negate)
    {
        // Reusing the forward planner with the target as operand A (and B = A) yields the merged axes and A's strides,
        // which are 0 exactly on the reduced axes.
        var plan = Plan.Create(targetShape, targetShape, sourceShape, allowBroadcastResult: true);
        var countT = (int)plan.CountA;
        var countY = plan.CountY;
        var sign = negate ? -1.0 : 1.0;
        if (countT == 0)
        {
            return;
        }

        if (countY == 0)
        {
            // Sums over an empty axis.
            target.AsSpan(0, countT).Clear();
            return;
        }

        if (countT == countY)
        {
            ElementwiseParallel.ForBlocks(countT, (s, l) =>
            {
                if (negate)
                {
                    TensorPrimitives.Negate(source.AsSpan(s, l), target.AsSpan(s, l));
                }
                else
                {
                    source.AsSpan(s, l).CopyTo(target.AsSpan(s, l));
                }
            });
            return;
        }

        if (countT == 1)
        {
            target[0] = (float)(sign * DoubleReductions.ParallelSum(source, 0, (int)countY));
            return;
        }

        var dims = plan.Dims;
        var strides = plan.StridesA;
        var rank = dims.Length;
        var inner = dims[rank - 1];
        var innerKept = strides[rank - 1] != 0;

        // Outer axes (all but the innermost) split into kept ones, which index the target, and reduced ones.
        var kept = new List<int>();
        var reduced = new List<int>();
        for (var axis = 0; axis < rank - 1; axis++)
        {
            (strides[axis] != 0 ? kept : reduced).Add(axis);
        }

        var keptAxes = kept.ToArray();
        var reducedAxes = reduced.ToArray();
        var reducedCount = 1;
        foreach (var axis in reducedAxes)
        {
            reducedCount *= dims[axis];
        }

        var sourceStrides = ContiguousStrides(dims);
        var keptCount = 1;
        foreach (var axis in keptAxes)
        {
            keptCount *= dims[axis];
        }

        if (innerKept)
        {
            // The target is keptCount blocks of `inner` contiguous elements; each block sums reducedCount source rows.
            ElementwiseParallel.For(keptCount, (long)reducedCount * inner, block =>
            {
                var baseOffset = Offset(block, keptAxes, dims, sourceStrides);
                var acc = new double[inner];
                for (var r = 0; r < reducedCount; r++)
                {
                    var offset = baseOffset + Offset(r, reducedAxes, dims, sourceStrides);
                    DoubleReductions.AddTo(acc, source.AsSpan((int)offset, inner));
                }

                var dst = target.AsSpan(block * inner, inner);
                for (var i = 0; i < inner; i++)
                {
                    dst[i] = (float)(sign * acc[i]);
                }
            });
        }
        else
        {
            // Each target element sums reducedCount contiguous source runs of length `inner`.
            ElementwiseParallel.For(keptCount, (long)reducedCount * inner, element =>
            {
                var baseOffset = Offset(element, keptAxes, dims, sourceStrides);
                var sum = 0.0;
                for (var r = 0; r < reducedCount; r++)
                {
                    var offset = baseOffset + Offset(r, reducedAxes, dims, sourceStrides);
                    sum += DoubleReductions.Sum(source.AsSpan((int)offset, inner));
                }

                target[element] = (float)(sign * sum);
            });
        }
    }

    /// <summary>Offset of the index-th combination (row-major over <paramref name="axes"/>) in a layout with the given strides.</summary>
    private static long Offset(int index, int[] axes, int[] dims, long[] strides)
    {
        long offset = 0;
        for (var k = axes.Length - 1; k >= 0; k--)
        {
            var axis = axes[k];
            offset += index % dims[axis] * strides[axis];
            index /= dims[axis];
        }

        return offset;
    }

    private static long[] ContiguousStrides(int[] dims)
    {
        var strides = new long[dims.Length];
        long stride = 1;
        for (var axis = dims.Length - 1; axis >= 0; axis--)
        {
            strides[axis] = stride;
            stride *= dims[axis];
        }

        return strides;
    }

    private static int Dim(int[] shape, int axis, int rank)
    {
        var k = axis - (rank - shape.Length);
        return k < 0 ? 1 : shape[k];
    }

    private static long Count(int[] shape)
    {
        long count = 1;
        foreach (var d in shape)
        {
            count *= d;
        }

        return count;
    }

    private static void CheckOp(BinaryOp op)
    {
        if (!Enum.IsDefined(op))
        {
            throw new ArgumentException($"Unknown binary operator {(int)op}.", nameof(op));
        }
    }

    private static void CheckShape(int[] shape, string name)
    {
        ArgumentNullException.ThrowIfNull(shape, name);
        long count = 1;
        for (var i = 0; i < shape.Length; i++)
        {
            if (shape[i] < 0)
            {
                throw new ArgumentException($"{name} {Format(shape)} has negative size {shape[i]} in axis {i}.", name);
            }

            count *= shape[i];
            if (count > Array.MaxLength)
            {
                throw new ArgumentException($"{name} {Format(shape)} has more elements than an array can hold.", name);
            }
        }
    }

    private static string Format(int[] shape) => "[" + string.Join(",", shape) + "]";

    /// <summary>
    /// A broadcast problem with the result's size-1 axes dropped and mergeable neighbours merged: Dims are the
    /// merged result sizes, StridesA/StridesB the operands' element strides per merged axis (0 where broadcast).
    /// </summary>
    private sealed class Plan
    {
        private Plan(int[] dims, long[] stridesA, long[] stridesB, long countA, long countB, long countY, int[] shapeY)
        {
            Dims = dims;
            StridesA = stridesA;
            StridesB = stridesB;
            CountA = countA;
            CountB = countB;
            CountY = countY;
            ShapeY = shapeY;
        }

        public int[] Dims { get; }

        public long[] StridesA { get; }

        public long[] StridesB { get; }

        public long CountA { get; }

        public long CountB { get; }

        public long CountY { get; }

        public int[] ShapeY { get; }

        /// <param name="shapeA">First operand's shape.</param>
        /// <param name="shapeB">Second operand's shape.</param>
        /// <param name="shapeY">The result shape, which must be the broadcast of the two.</param>
        /// <param name="allowBroadcastResult">For reductions: shapeY may be any shape that A and B broadcast to.</param>
        public static Plan Create(int[] shapeA, int[] shapeB, int[] shapeY, bool allowBroadcastResult = false)
        {
            CheckShape(shapeY, nameof(shapeY));
            int[] expected;
            if (allowBroadcastResult)
            {
                expected = ResultShape(ResultShape(shapeA, shapeB), shapeY);
            }
            else
            {
                expected = ResultShape(shapeA, shapeB);
            }

            if (!expected.AsSpan().SequenceEqual(shapeY))
            {
                throw new ArgumentException(
                    $"shapeY {Format(shapeY)} is not the broadcast of {Format(shapeA)} and {Format(shapeB)}, which is {Format(expected)}.",
                    nameof(shapeY));
            }

            var rank = shapeY.Length;
            var stridesA = BroadcastStrides(shapeA, rank);
            var stridesB = BroadcastStrides(shapeB, rank);

            var dims = new List<int>(rank);
            var sa = new List<long>(rank);
            var sb = new List<long>(rank);
            for (var axis = 0; axis < rank; axis++)
            {
                var d = shapeY[axis];
                if (d == 1)
                {
                    continue;
                }

                var a = Dim(shapeA, axis, rank) == 1 ? 0 : stridesA[axis];
                var b = Dim(shapeB, axis, rank) == 1 ? 0 : stridesB[axis];
                var last = dims.Count - 1;
                // Axis `axis` continues the previous merged axis when, for both operands, stepping the previous axis
                // by one equals stepping this one d times (contiguous with contiguous, broadcast with broadcast).
                if (last >= 0 && sa[last] == a * d && sb[last] == b * d)
                {
                    dims[last] *= d;
                    sa[last] = a;
                    sb[last] = b;
                }
                else
                {
                    dims.Add(d);
                    sa.Add(a);
                    sb.Add(b);
                }
            }

            return new Plan([.. dims], [.. sa], [.. sb], Count(shapeA), Count(shapeB), Count(shapeY), shapeY);
        }

        /// <summary>Offsets in A and B of the first element of a row (all merged axes but the innermost).</summary>
        public void RowOffsets(int row, out long offsetA, out long offsetB)
        {
            offsetA = 0;
            offsetB = 0;
            for (var axis = Dims.Length - 2; axis >= 0; axis--)
            {
                var i = row % Dims[axis];
                row /= Dims[axis];
                offsetA += i * StridesA[axis];
                offsetB += i * StridesB[axis];
            }
        }

        /// <summary>Row-major strides of a shape right-aligned into <paramref name="rank"/> axes (missing axes get 0).</summary>
        private static long[] BroadcastStrides(int[] shape, int rank)
        {
            var strides = new long[rank];
            long stride = 1;
            for (var k = shape.Length - 1; k >= 0; k--)
            {
                strides[k + rank - shape.Length] = stride;
                stride *= shape[k];
            }

            return strides;
        }
    }
}
