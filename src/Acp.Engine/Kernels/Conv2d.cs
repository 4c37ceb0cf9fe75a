namespace Acp.Engine.Kernels;

/// <summary>
/// 2-D convolution (ONNX Conv: cross-correlation) over NCHW float buffers, forward and both backward passes, for any
/// group count, stride, asymmetric padding and dilation. Weights are <c>[OutChannels, InChannels/Groups, KH, KW]</c>.
/// Buffers may be longer than the geometry needs; only the prefix is read or written. Outputs are overwritten, never
/// accumulated into. Inputs and outputs must not overlap.
/// </summary>
/// <remarks>
/// Layers with one input channel per group (depthwise, with any channel multiplier) run a direct SIMD kernel; the
/// rest lower each image and group to <see cref="Gemm.Multiply"/> over an im2col band (a 1×1, stride-1, unpadded
/// layer multiplies the input in place). Work is spread over images, groups and, when those are too few for the
/// machine, over output-row bands or channel blocks. Every result is a function of the inputs and the geometry
/// alone: no element is ever summed in an order that depends on thread scheduling.
/// </remarks>
public static unsafe class Conv2d
{
    /// <summary>
    /// Target size in floats of one worker's im2col band. 128 Ki floats (512 KiB) keeps the band and the GEMM's
    /// packed panels inside a typical 1–2 MiB L2 while leaving whole 28×28 and 32×32 images to one band.
    /// </summary>
    private const int ColumnBudget = 128 * 1024;

    /// <summary>Upper bound on the per-slot partial weight gradients BackwardFilter keeps (floats, all slots).</summary>
    private const long SlotBudget = 4L * 1024 * 1024;

    /// <summary>Most partial weight-gradient slots BackwardFilter splits the batch into; fixed so results do not depend on the machine.</summary>
    private const int MaxSlots = 16;

    /// <summary>
    /// y = conv(x, w) + bias. x is <c>[N, C_in, H, W]</c>, y is <c>[N, C_out, OH, OW]</c>, bias (optional) is <c>[C_out]</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The geometry is invalid or a buffer is shorter than it requires.</exception>
    public static void Forward(ConvGeometry g, float[] x, float[] w, float[]? bias, float[] y)
    {
        g.Validate();
        Require(x, g.InputLength, nameof(x), "input N·C_in·H·W", g);
        Require(w, g.WeightLength, nameof(w), "weight C_out·C_in/G·KH·KW", g);
        if (bias is not null) Require(bias, g.OutChannels, nameof(bias), "bias C_out", g);
        Require(y, g.OutputLength, nameof(y), "output N·C_out·OH·OW", g);
        if (g.Batch == 0) return;

        if (ConvDepthwise.Applies(g))
        {
            ConvDepthwise.Forward(g, x, w, bias, y);
            return;
        }

        var plan = new Plan(g);
        // Bands of output rows are independent in the forward pass, so they also serve to feed idle workers
        // when the batch is small (batch-1 inference).
        var bandRows = plan.BandRows(ColumnBudget, g.Batch * g.Groups);
        var bands = (plan.OutH + bandRows - 1) / bandRows;
        var scratch = plan.Direct ? 0 : plan.K * bandRows * plan.OutW;
        var perItem = (long)plan.Cgo * plan.K * bandRows * plan.OutW;

        ConvSimd.For(g.Batch * g.Groups * bands, scratch, perItem, (item, col) =>
        {
            var band = item % bands;
            var ng = item / bands;
            var n = ng / g.Groups;
            var grp = ng % g.Groups;
            var oh0 = band * bandRows;
            var oh1 = Math.Min(plan.OutH, oh0 + bandRows);
            var nb = (oh1 - oh0) * plan.OutW;
            var xOffset = ((long)n * g.InChannels + grp * plan.Cgi) * plan.InPlane;
            var yOffset = ((long)n * g.OutChannels + grp * plan.Cgo) * plan.OutPlane + oh0 * plan.OutW;
            var a = w.AsSpan(grp * plan.Cgo * plan.K, plan.Cgo * plan.K);
            var c = y.AsSpan((int)yOffset, (plan.Cgo - 1) * plan.OutPlane + nb);
            if (plan.Direct)
            {
                // 1×1, stride 1, no padding: the input planes already are the column matrix (OH = H, OW = W).
                var b = x.AsSpan((int)xOffset + oh0 * plan.OutW, (plan.K - 1) * plan.InPlane + nb);
                Gemm.Multiply(false, false, plan.Cgo, nb, plan.K, 1f, a, plan.K, b, plan.InPlane, 0f, c, plan.OutPlane);
            }
            else
            {
                fixed (float* px = x, pc = col)
                {
                    Im2Col.Pack(g, px + xOffset, plan.Cgi, oh0, oh1, pc);
                }
                Gemm.Multiply(false, false, plan.Cgo, nb, plan.K, 1f, a, plan.K, col.AsSpan(0, plan.K * nb), nb, 0f, c, plan.OutPlane);
            }

            if (bias is not null)
            {
                fixed (float* py = y)
                {
                    for (var o = 0; o < plan.Cgo; o++)
                    {
                        AddScalar(py + yOffset + (long)o * plan.OutPlane, bias[grp * plan.Cgo + o], nb);
                    }
                }
            }
        });
    }

    /// <summary>
    /// dx = ∂L/∂x given dy = ∂L/∂y: the transposed convolution of dy with w. dy is <c>[N, C_out, OH, OW]</c>, dx is
    /// <c>[N, C_in, H, W]</c> and is overwritten (input pixels no window reads get 0).
    /// </summary>
    /// <exception cref="ArgumentException">The geometry is invalid or a buffer is shorter than it requires.</exception>
    public static void BackwardData(ConvGeometry g, float[] dy, float[] w, float[] dx)
    {
        g.Validate();
        Require(dy, g.OutputLength, nameof(dy), "output gradient N·C_out·OH·OW", g);
        Require(w, g.WeightLength, nameof(w), "weight C_out·C_in/G·KH·KW", g);
        Require(dx, g.InputLength, nameof(dx), "input gradient N·C_in·H·W", g);
        if (g.Batch == 0) return;

        if (ConvDepthwise.Applies(g))
        {
            ConvDepthwise.BackwardData(g, dy, w, dx);
            return;
        }

        var plan = new Plan(g);
        // Output-row bands scatter into overlapping input rows, so parallel work is split over input-channel blocks
        // instead: each block owns its dx planes outright and accumulates them in a fixed order.
        var blocks = Math.Min(plan.Cgi, CeilDiv(2 * ConvSimd.Workers, g.Batch * g.Groups));
        var blockChannels = CeilDiv(plan.Cgi, blocks);
        blocks = CeilDiv(plan.Cgi, blockChannels);
        var taps = g.KernelHeight * g.KernelWidth;
        var bandRows = Math.Clamp(ColumnBudget / Math.Max(1, blockChannels * taps * plan.OutW), 1, plan.OutH);
        var scratch = plan.Direct ? 0 : blockChannels * taps * bandRows * plan.OutW;
        var perItem = (long)blockChannels * taps * plan.Cgo * plan.OutPlane;

        ConvSimd.For(g.Batch * g.Groups * blocks, scratch, perItem, (item, col) =>
        {
            var block = item % blocks;
            var ng = item / blocks;
            var n = ng / g.Groups;
            var grp = ng % g.Groups;
            var c0 = block * blockChannels;
            var c1 = Math.Min(plan.Cgi, c0 + blockChannels);
            var rows = (c1 - c0) * taps;
            var dyOffset = ((long)n * g.OutChannels + grp * plan.Cgo) * plan.OutPlane;
            var dxOffset = ((long)n * g.InChannels + grp * plan.Cgi + c0) * plan.InPlane;
            // op(A) = W_gᵀ restricted to this block's rows of the column matrix.
            var a = w.AsSpan(grp * plan.Cgo * plan.K + c0 * taps, (plan.Cgo - 1) * plan.K + rows);
            if (plan.Direct)
            {
                var b = dy.AsSpan((int)dyOffset, plan.Cgo * plan.OutPlane);
                var c = dx.AsSpan((int)dxOffset, (c1 - c0) * plan.InPlane);
                Gemm.Multiply(true, false, rows, plan.OutPlane, plan.Cgo, 1f, a, plan.K, b, plan.OutPlane, 0f, c, plan.InPlane);
                return;
            }

            dx.AsSpan((int)dxOffset, (c1 - c0) * plan.InPlane).Clear();
            for (var oh0 = 0; oh0 < plan.OutH; oh0 += bandRows)
            {
                var oh1 = Math.Min(plan.OutH, oh0 + bandRows);
                var nb = (oh1 - oh0) * plan.OutW;
                var b = dy.AsSpan((int)dyOffset + oh0 * plan.OutW, (plan.Cgo - 1) * plan.OutPlane + nb);
                Gemm.Multiply(true, false, rows, nb, plan.Cgo, 1f, a, plan.K, b, plan.OutPlane, 0f, col.AsSpan(0, rows * nb), nb);
                fixed (float* pc = col, pdx = dx)
                {
                    Im2Col.Unpack(g, pc, c1 - c0, oh0, oh1, pdx + dxOffset);
                }
            }
        });
    }

    /// <summary>
    /// dw = ∂L/∂w and, when dbias is given, dbias = ∂L/∂bias, from the forward input x and dy = ∂L/∂y, summed over
    /// the batch. Both are overwritten. The batch is split into a fixed number of slots (a function of the geometry
    /// only); each slot sums its images in order into its own partial, and the partials are added in slot order, so
    /// the result has the same bits on every run.
    /// </summary>
    /// <exception cref="ArgumentException">The geometry is invalid or a buffer is shorter than it requires.</exception>
    public static void BackwardFilter(ConvGeometry g, float[] x, float[] dy, float[] dw, float[]? dbias)
    {
        g.Validate();
        Require(x, g.InputLength, nameof(x), "input N·C_in·H·W", g);
        Require(dy, g.OutputLength, nameof(dy), "output gradient N·C_out·OH·OW", g);
        Require(dw, g.WeightLength, nameof(dw), "weight gradient C_out·C_in/G·KH·KW", g);
        if (dbias is not null) Require(dbias, g.OutChannels, nameof(dbias), "bias gradient C_out", g);

        if (dbias is not null) BiasGradient(g.Batch, g.OutChannels, g.OutHeight * g.OutWidth, dy, dbias);
        if (g.Batch == 0)
        {
            dw.AsSpan(0, (int)g.WeightLength).Clear();
            return;
        }

        if (ConvDepthwise.Applies(g))
        {
            ConvDepthwise.BackwardFilter(g, x, dy, dw);
            return;
        }

        var plan = new Plan(g);
        var weightLength = (int)g.WeightLength;
        var slots = (int)Math.Clamp(Math.Min(Math.Min(g.Batch, MaxSlots), SlotBudget / weightLength), 1, g.Batch);
        // With too few slots × groups to occupy the workers (small batches, huge layers), also split each group's
        // output channels into blocks; each block re-packs its own columns, trading im2col work for parallelism.
        var blocks = Math.Clamp(CeilDiv(2 * ConvSimd.Workers, slots * g.Groups), 1, Math.Max(1, plan.Cgo / 8));
        var blockChannels = CeilDiv(plan.Cgo, blocks);
        blocks = CeilDiv(plan.Cgo, blockChannels);
        var bandRows = Math.Clamp(ColumnBudget / Math.Max(1, plan.K * plan.OutW), 1, plan.OutH);
        var scratch = plan.Direct ? 0 : plan.K * bandRows * plan.OutW;
        var partials = slots > 1 ? System.Buffers.ArrayPool<float>.Shared.Rent((slots - 1) * weightLength) : null;
        var perItem = (long)CeilDiv(g.Batch, slots) * blockChannels * plan.K * plan.OutPlane;
        try
        {
            ConvSimd.For(slots * g.Groups * blocks, scratch, perItem, (item, col) =>
            {
                var block = item % blocks;
                var sg = item / blocks;
                var slot = sg / g.Groups;
                var grp = sg % g.Groups;
                var co0 = block * blockChannels;
                var co1 = Math.Min(plan.Cgo, co0 + blockChannels);
                // Contiguous image ranges per slot, fixed by (batch, slots) alone.
                var n0 = (int)((long)slot * g.Batch / slots);
                var n1 = (int)((long)(slot + 1) * g.Batch / slots);
                var target = slot == 0 ? dw : partials!;
                var targetOffset = (slot == 0 ? 0 : (slot - 1) * weightLength) + (grp * plan.Cgo + co0) * plan.K;
                var c = target.AsSpan(targetOffset, (co1 - co0) * plan.K);
                var beta = 0f;
                for (var n = n0; n < n1; n++)
                {
                    var xOffset = ((long)n * g.InChannels + grp * plan.Cgi) * plan.InPlane;
                    var dyOffset = ((long)n * g.OutChannels + grp * plan.Cgo + co0) * plan.OutPlane;
                    for (var oh0 = 0; oh0 < plan.OutH; oh0 += bandRows)
                    {
                        var oh1 = Math.Min(plan.OutH, oh0 + bandRows);
                        var nb = (oh1 - oh0) * plan.OutW;
                        var a = dy.AsSpan((int)dyOffset + oh0 * plan.OutW, (co1 - co0 - 1) * plan.OutPlane + nb);
                        if (plan.Direct)
                        {
                            var b = x.AsSpan((int)xOffset + oh0 * plan.OutW, (plan.K - 1) * plan.InPlane + nb);
                            Gemm.Multiply(false, true, co1 - co0, plan.K, nb, 1f, a, plan.OutPlane, b, plan.InPlane, beta, c, plan.K);
                        }
                        else
                        {
                            fixed (float* px = x, pc = col)
                            {
                                Im2Col.Pack(g, px + xOffset, plan.Cgi, oh0, oh1, pc);
                            }
                            Gemm.Multiply(false, true, co1 - co0, plan.K, nb, 1f, a, plan.OutPlane, col.AsSpan(0, plan.K * nb), nb, beta, c, plan.K);
                        }
                        beta = 1f;
                    }
                }
            });

            if (partials is not null) SumSlots(dw, partials, slots - 1, weightLength);
        }
        finally
        {
            if (partials is not null) System.Buffers.ArrayPool<float>.Shared.Return(partials);
        }
    }

    /// <summary>dw[i] += Σ_s partials[s·length + i], s ascending: elementwise, so splitting i across threads keeps the bits.</summary>
    internal static void SumSlots(float[] dw, float[] partials, int count, int length)
    {
        const int Chunk = 16 * 1024;
        var chunks = CeilDiv(length, Chunk);
        ConvSimd.For(chunks, 0, (long)Chunk * count, (chunk, _) =>
        {
            var start = chunk * Chunk;
            var n = Math.Min(Chunk, length - start);
            fixed (float* pd = dw, pp = partials)
            {
                for (var s = 0; s < count; s++) ConvSimd.Add(pp + (long)s * length + start, pd + start, n);
            }
        });
    }

    /// <summary>dbias[c] = Σ_n Σ_p dy[n, c, p], images summed in order for determinism.</summary>
    internal static void BiasGradient(int batch, int channels, int plane, float[] dy, float[] dbias)
    {
        ConvSimd.For(channels, 0, (long)batch * plane, (c, _) =>
        {
            var total = 0f;
            fixed (float* p = dy)
            {
                for (var n = 0; n < batch; n++) total += ConvSimd.Sum(p + ((long)n * channels + c) * plane, plane);
            }
            dbias[c] = total;
        });
    }

    private static void AddScalar(float* p, float value, int n)
    {
        if (value == 0f) return;
        System.Numerics.Tensors.TensorPrimitives.Add(new ReadOnlySpan<float>(p, n), value, new Span<float>(p, n));
    }

    internal static int CeilDiv(int a, int b) => (a + b - 1) / b;

    internal static void Require(float[] buffer, long needed, string name, string what, in ConvGeometry g)
    {
        ArgumentNullException.ThrowIfNull(buffer, name);
        if (buffer.Length < needed)
        {
            throw new ArgumentException($"{name} has {buffer.Length} elements but the {what} needs {needed} ({g}).", name);
        }
    }

    /// <summary>Sizes derived once per call from a validated geometry.</summary>
    private readonly struct Plan
    {
        public Plan(in ConvGeometry g)
        {
            Cgi = g.InChannelsPerGroup;
            Cgo = g.OutChannelsPerGroup;
            K = Cgi * g.KernelHeight * g.KernelWidth;
            OutH = g.OutHeight;
            OutW = g.OutWidth;
            InPlane = g.InHeight * g.InWidth;
            OutPlane = OutH * OutW;
            Direct = g.KernelHeight == 1 && g.KernelWidth == 1 && g.StrideH == 1 && g.StrideW == 1 &&
                g.PadTop == 0 && g.PadLeft == 0 && g.PadBottom == 0 && g.PadRight == 0;
        }

        public int Cgi { get; }
        public int Cgo { get; }
        public int K { get; }
        public int OutH { get; }
        public int OutW { get; }
        public int InPlane { get; }
        public int OutPlane { get; }
        public bool Direct { get; }

        /// <summary>Output rows per band: as many as fit the budget, then fewer if the items would not fill the workers.</summary>
        public int BandRows(int budget, int itemsWithoutBands)
        {
            var rows = Direct ? OutH : Math.Clamp(budget / Math.Max(1, K * OutW), 1, OutH);
            var wanted = 2 * ConvSimd.Workers;
            if (itemsWithoutBands * CeilDiv(OutH, rows) < wanted)
            {
                var bands = Math.Min(OutH, CeilDiv(wanted, itemsWithoutBands));
                rows = Math.Min(rows, CeilDiv(OutH, bands));
            }
            return rows;
        }
    }
}
