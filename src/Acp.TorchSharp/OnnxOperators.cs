using Acp.Onnx.Ir;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Acp.TorchSharp;

/// <summary>One node made runnable: inputs in the node's order (null for an omitted optional input), outputs likewise.</summary>
internal abstract class Step(Node node)
{
    public Node Node { get; } = node;

    public abstract Tensor[] Run(Tensor?[] inputs, bool training);

    protected Tensor X(Tensor?[] inputs, int index) =>
        inputs.Length > index && inputs[index] is { } t ? t : throw new TorchBackendException($"Node '{Node.DisplayName}': input {index} is missing.");
}

/// <summary>A step that is a plain function of its inputs.</summary>
internal sealed class FunctionStep(Node node, Func<Tensor?[], bool, Tensor[]> run) : Step(node)
{
    public override Tensor[] Run(Tensor?[] inputs, bool training) => run(inputs, training);
}

/// <summary>
/// BatchNormalization with running statistics as buffers: batch statistics and a momentum update in training mode,
/// running statistics in eval mode. During a re-fit the momentum is 1/(k+1) at batch k, so every batch counts equally.
/// </summary>
internal sealed class BatchNormStep(Node node) : Step(node)
{
    private int? _refitBatches;

    /// <summary>PyTorch's momentum is 1 − ONNX's (ONNX: running = m · running + (1 − m) · batch).</summary>
    private double Momentum => _refitBatches is { } k ? 1.0 / (k + 1) : 1.0 - Node.GetFloat("momentum", 0.9f);

    public void BeginRefit() => _refitBatches = 0;

    public void CountRefitBatch() => _refitBatches++;

    public void EndRefit() => _refitBatches = null;

    public override Tensor[] Run(Tensor?[] inputs, bool training)
    {
        var x = X(inputs, 0);
        var y = F.batch_norm(x, X(inputs, 3), X(inputs, 4), X(inputs, 1), X(inputs, 2), training, Momentum, Node.GetFloat("epsilon", 1e-5f));
        return [y];
    }
}

/// <summary>Maps each ONNX operator to its step; the list is the backend's operator set (the engine's).</summary>
internal static class OnnxOperators
{
    public static Step Create(OnnxModule module, Node node)
    {
        if (!node.IsStandard)
        {
            throw new TorchBackendException($"Node '{node.DisplayName}': operator {node.Domain}.{node.OpType} is not supported by the TorchSharp backend.");
        }
        var ops = new Operators(module, node);
        return node.OpType switch
        {
            "BatchNormalization" => new BatchNormStep(node),
            _ => new FunctionStep(node, ops.Function()),
        };
    }

    private sealed class Operators(OnnxModule module, Node node)
    {
        public Func<Tensor?[], bool, Tensor[]> Function() => node.OpType switch
        {
            "Conv" => One(Conv),
            "MaxPool" => One(x => Pool(x[0]!, max: true)),
            "AveragePool" => One(x => Pool(x[0]!, max: false)),
            "GlobalAveragePool" => One(x => x[0]!.mean(Enumerable.Range(2, (int)x[0]!.dim() - 2).Select(d => (long)d).ToArray(), keepdim: true)),
            "GlobalMaxPool" => One(x => GlobalMax(x[0]!)),
            "Gemm" => One(Gemm),
            "MatMul" => One(MatMul),
            "Concat" => One(x => cat(x.Select(t => t!).ToList(), node.GetInt("axis", 0))),
            "Split" => Split(),
            "Softmax" => One(x => Softmax(x[0]!)),
            "Relu" => One(x => F.relu(x[0]!)),
            "LeakyRelu" => One(x => F.leaky_relu(x[0]!, node.GetFloat("alpha", 0.01f))),
            "Sigmoid" => One(x => x[0]!.sigmoid()),
            "Tanh" => One(x => x[0]!.tanh()),
            "HardSigmoid" => One(x => HardSigmoid(x[0]!, node.GetFloat("alpha", 0.2f), node.GetFloat("beta", 0.5f))),
            "HardSwish" => One(x => F.hardswish(x[0]!)),
            "Clip" => One(Clip),
            "Add" => One(x => x[0]! + x[1]!),
            "Sub" => One(x => x[0]! - x[1]!),
            "Mul" => One(x => x[0]! * x[1]!),
            "Div" => One(x => x[0]! / x[1]!),
            "Identity" => One(x => x[0]!),
            "Dropout" => Dropout(),
            "Reshape" => One(Reshape),
            "Flatten" => One(Flatten),
            "Squeeze" => One(Squeeze),
            "Unsqueeze" => One(Unsqueeze),
            "Transpose" => One(x => x[0]!.permute(node.GetInts("perm") ?? Enumerable.Range(0, (int)x[0]!.dim()).Reverse().Select(i => (long)i).ToArray())),
            "Slice" => One(Slice),
            "Pad" => One(Pad),
            _ => throw new TorchBackendException($"Node '{node.DisplayName}': operator {node.OpType} is not supported by the TorchSharp backend."),
        };

        private static Func<Tensor?[], bool, Tensor[]> One(Func<Tensor?[], Tensor> f) => (x, _) => [f(x)];

        private string Name => node.DisplayName;

        /// <summary>An int64 operand known at import (an initializer or a folded value), or null when the input is absent.</summary>
        private long[]? StaticInts(int index)
        {
            if (node.InputAt(index) is not { } name) return null;
            if (module.Static.TryGetValue(name, out var folded) && folded.IsInteger) return folded.Int64s;
            throw new TorchBackendException($"Node '{Name}': input '{name}' must be a constant known at import (it is computed at run time).");
        }

        private float? StaticScalar(int index)
        {
            if (node.InputAt(index) is not { } name) return null;
            if (module.Static.TryGetValue(name, out var folded) && folded.IsFloat && folded.ElementCount == 1) return folded.Floats[0];
            if (module.IsKnownTensor(name)) return module.Weight(name).cpu().item<float>();
            throw new TorchBackendException($"Node '{Name}': input '{name}' must be a constant scalar.");
        }

        /// <summary>ONNX pads [x1_begin, x2_begin, …, x1_end, x2_end, …] for this input, resolving auto_pad.</summary>
        private long[] Pads(long[] spatial, long[] kernel, long[] strides, long[] dilations)
        {
            var rank = spatial.Length;
            var autoPad = node.GetString("auto_pad", "NOTSET");
            switch (autoPad)
            {
                case "NOTSET":
                    return node.GetInts("pads") ?? new long[2 * rank];
                case "VALID":
                    return new long[2 * rank];
                case "SAME_UPPER" or "SAME_LOWER":
                    var pads = new long[2 * rank];
                    for (var i = 0; i < rank; i++)
                    {
                        var output = (spatial[i] + strides[i] - 1) / strides[i];
                        var total = Math.Max(0, (output - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - spatial[i]);
                        var small = total / 2;
                        pads[i] = autoPad == "SAME_UPPER" ? small : total - small;
                        pads[i + rank] = total - pads[i];
                    }
                    return pads;
                default:
                    throw new TorchBackendException($"Node '{Name}': auto_pad '{autoPad}' is not valid.");
            }
        }

        private static bool Symmetric(long[] pads) => pads.Take(pads.Length / 2).SequenceEqual(pads.Skip(pads.Length / 2));

        /// <summary>torch's pad order: the last dimension first, (begin, end) pairs.</summary>
        private static long[] TorchPadOrder(long[] pads)
        {
            var rank = pads.Length / 2;
            var result = new long[2 * rank];
            for (var i = 0; i < rank; i++)
            {
                result[2 * i] = pads[rank - 1 - i];
                result[2 * i + 1] = pads[2 * rank - 1 - i];
            }
            return result;
        }

        private Tensor Conv(Tensor?[] x)
        {
            var input = x[0]!;
            var weight = x[1]!;
            var rank = (int)input.dim() - 2;
            var kernel = weight.shape.Skip(2).ToArray();
            var strides = node.GetInts("strides") ?? Enumerable.Repeat(1L, rank).ToArray();
            var dilations = node.GetInts("dilations") ?? Enumerable.Repeat(1L, rank).ToArray();
            var groups = node.GetInt("group", 1);
            var pads = Pads(input.shape.Skip(2).ToArray(), kernel, strides, dilations);
            long[] padding;
            if (Symmetric(pads))
            {
                padding = pads.Take(rank).ToArray();
            }
            else
            {
                input = F.pad(input, TorchPadOrder(pads));
                padding = new long[rank];
            }
            var bias = x.Length > 2 ? x[2] : null;
            if (rank == 2 && groups == 1) (input, weight) = PadInputChannels(input, weight);
            if (rank == 2 && NeedsSafeInputGradient(input, weight, groups, strides)) return SafeConv2d(input, weight, bias, strides, padding, dilations);
            return rank switch
            {
                1 => F.conv1d(input, weight, bias, strides[0], padding[0], dilations[0], groups),
                2 => F.conv2d(input, weight, bias, strides, padding, dilations, groups),
                3 => F.conv3d(input, weight, bias, strides, padding, dilations, groups),
                _ => throw new TorchBackendException($"Node '{Name}': a {rank}-D convolution is not supported."),
            };
        }

        /// <summary>Output channels are padded to this multiple when the input needs a gradient (see <see cref="SafeConv2d"/>).</summary>
        internal const int ChannelBlock = 16;

        private static bool NeedsSafeInputGradient(Tensor input, Tensor weight, long groups, long[] strides) =>
            input.requires_grad && is_grad_enabled() && groups == 1 && weight.shape.Skip(2).Any(k => k > 1)
            && (weight.shape[0] % ChannelBlock != 0 || strides.Any(s => s > 1));

        /// <summary>
        /// LibTorch 2.10's CPU float32 convolution (as shipped in libtorch-cpu-linux-x64) computes a wrong forward
        /// output, at times NaN, when an ungrouped convolution has more than 16 input channels and not a multiple of 16
        /// (17, 20, 24, 28, 33, 36, 40, 44, 56, 72, 104, 120, 136 measured wrong at stride 1 and 2, batches 16–128,
        /// 7–28 px; 1–16, 48, 64, 80, 96, 128 right; measured against float64 LibTorch, docs/torchsharp.md). Pruned
        /// widths land there all the time. Zero input channels with zero filter taps leave the sum unchanged, so the
        /// convolution runs with both padded to the next multiple of 16; the padding's gradient is dropped by cat's.
        /// </summary>
        private static (Tensor Input, Tensor Weight) PadInputChannels(Tensor input, Tensor weight)
        {
            var channels = input.shape[1];
            if (channels <= ChannelBlock || channels % ChannelBlock == 0) return (input, weight);
            var extra = ChannelBlock - channels % ChannelBlock;
            var paddedInput = cat([input, zeros([input.shape[0], extra, .. input.shape.Skip(2)], input.dtype, input.device)], 1);
            var paddedWeight = cat([weight, zeros([weight.shape[0], extra, .. weight.shape.Skip(2)], weight.dtype, weight.device)], 1);
            return (paddedInput, paddedWeight);
        }

        /// <summary>
        /// LibTorch 2.10's CPU convolution (as shipped in libtorch-cpu-linux-x64) returns a wrong input gradient, at
        /// times NaN, for ungrouped k×k (k &gt; 1) convolutions of two families (measured against float64 LibTorch,
        /// docs/torchsharp.md): stride 1 with output channels not a multiple of 16 (4, 8, 12, 24, 40, … fail at any
        /// batch), and stride 2 with some input channel counts at batches of 64 or more (40 and 48 fail for every
        /// output count, 1 with 8 or 24 outputs; 8–32 and 64 were right); forward (inputs padded as above) and weight gradients are right. So
        /// when the input needs a gradient, the convolution runs on the one path measured right in every case: stride
        /// 1, output channels padded with zero filters to a multiple of 16; the extra outputs are cut off and a
        /// strided convolution keeps every stride-th position. The same function (a strided convolution is the
        /// stride-1 one sampled), at stride² the multiply-adds for strided layers in training.
        /// </summary>
        private static Tensor SafeConv2d(Tensor input, Tensor weight, Tensor? bias, long[] strides, long[] padding, long[] dilations)
        {
            var channels = weight.shape[0];
            var wide = (channels + ChannelBlock - 1) / ChannelBlock * ChannelBlock;
            var padded = wide == channels ? weight : cat([weight, zeros([wide - channels, .. weight.shape.Skip(1)], weight.dtype, weight.device)], 0);
            var y = F.conv2d(input, padded, null, [1, 1], padding, dilations, 1).narrow(1, 0, channels);
            for (var axis = 0; axis < 2; axis++)
            {
                var stride = strides[axis];
                if (stride == 1) continue;
                // Output i of the strided convolution reads the window of the stride-1 output stride·i.
                var positions = (y.shape[2 + axis] - 1) / stride + 1;
                y = y.slice(2 + axis, 0, stride * (positions - 1) + 1, stride);
            }
            return bias is null ? y : y + bias.reshape(1, channels, 1, 1);
        }

        private Tensor Pool(Tensor input, bool max)
        {
            var kernel = node.GetInts("kernel_shape") ?? throw new TorchBackendException($"Node '{Name}': kernel_shape is missing.");
            var rank = kernel.Length;
            if (rank != 2) throw new TorchBackendException($"Node '{Name}': {rank}-D pooling is not supported (2-D only).");
            var strides = node.GetInts("strides") ?? Enumerable.Repeat(1L, rank).ToArray();
            var dilations = node.GetInts("dilations") ?? Enumerable.Repeat(1L, rank).ToArray();
            var ceil = node.GetInt("ceil_mode", 0) != 0;
            var pads = Pads(input.shape.Skip(2).ToArray(), kernel, strides, dilations);
            long[] padding;
            if (Symmetric(pads))
            {
                padding = pads.Take(rank).ToArray();
            }
            else if (max)
            {
                input = F.pad(input, TorchPadOrder(pads), PaddingModes.Constant, double.NegativeInfinity);
                padding = new long[rank];
            }
            else if (node.GetInt("count_include_pad", 0) != 0)
            {
                input = F.pad(input, TorchPadOrder(pads));
                padding = new long[rank];
            }
            else
            {
                throw new TorchBackendException($"Node '{Name}': AveragePool with asymmetric pads excluded from the count is not supported.");
            }
            if (max) return F.max_pool2d(input, kernel, strides, padding, dilations, ceil);
            if (dilations.Any(d => d != 1)) throw new TorchBackendException($"Node '{Name}': dilated AveragePool is not supported.");
            return F.avg_pool2d(input, kernel, strides, padding, ceil, node.GetInt("count_include_pad", 0) != 0);
        }

        private static Tensor GlobalMax(Tensor x)
        {
            var flat = x.flatten(2);
            return flat.amax([2], keepdim: true).reshape([.. x.shape.Take(2), .. Enumerable.Repeat(1L, (int)x.dim() - 2)]);
        }

        private Tensor Gemm(Tensor?[] x)
        {
            var a = node.GetInt("transA", 0) != 0 ? x[0]!.t() : x[0]!;
            var b = node.GetInt("transB", 0) != 0 ? x[1]!.t() : x[1]!;
            var alpha = node.GetFloat("alpha", 1f);
            var beta = node.GetFloat("beta", 1f);
            CheckInner(a, b);
            var y = a.mm(b);
            if (alpha != 1f) y = y * alpha;
            if (x.Length > 2 && x[2] is { } c) y = beta == 1f ? y + c : y + c * beta;
            return y;
        }

        /// <summary>
        /// TorchSharp 0.107's native matmul lets a LibTorch shape error escape as a C++ exception, which ends the
        /// process; so shapes are checked here first and a bad pair is a managed, one-line error.
        /// </summary>
        private Tensor MatMul(Tensor?[] x)
        {
            CheckInner(x[0]!, x[1]!);
            return x[0]!.matmul(x[1]!);
        }

        private void CheckInner(Tensor a, Tensor b)
        {
            var inner = a.dim() >= 1 ? a.shape[^1] : -1;
            var other = b.dim() >= 2 ? b.shape[^2] : b.dim() == 1 ? b.shape[0] : -2;
            if (inner != other)
            {
                throw new TorchBackendException($"Node '{Name}': cannot multiply [{string.Join(",", a.shape)}] by [{string.Join(",", b.shape)}].");
            }
        }

        private Func<Tensor?[], bool, Tensor[]> Split()
        {
            var axis = node.GetInt("axis", 0);
            var sizes = StaticInts(1) ?? node.GetInts("split");
            var parts = node.Outputs.Count;
            return (x, _) =>
            {
                var input = x[0]!;
                var dim = axis < 0 ? axis + input.dim() : axis;
                if (sizes is null)
                {
                    var length = input.shape[dim];
                    if (length % parts != 0) throw new TorchBackendException($"Node '{Name}': {length} channels do not split into {parts} equal parts.");
                    return input.split(length / parts, dim);
                }
                return input.split(sizes, dim);
            };
        }

        /// <summary>Before opset 13 Softmax works on the input flattened to 2-D at axis (default 1); from 13 on one axis (default −1).</summary>
        private Tensor Softmax(Tensor x)
        {
            if (module.Opset >= 13) return x.softmax(node.GetInt("axis", -1));
            var axis = node.GetInt("axis", 1);
            if (axis < 0) axis += x.dim();
            var rows = x.shape.Take((int)axis).Aggregate(1L, (p, d) => p * d);
            return x.reshape(rows, -1).softmax(1).reshape(x.shape);
        }

        private Tensor HardSigmoid(Tensor x, float alpha, float beta) => (x * alpha + beta).clamp(0, 1);

        private Tensor Clip(Tensor?[] x)
        {
            var low = module.Opset >= 11 ? StaticScalar(1) : node.GetFloat("min", float.NegativeInfinity);
            var high = module.Opset >= 11 ? StaticScalar(2) : node.GetFloat("max", float.PositiveInfinity);
            if (low is { } l && high is { } h) return x[0]!.clamp(l, h);
            if (low is { } onlyLow) return x[0]!.clamp_min(onlyLow);
            if (high is { } onlyHigh) return x[0]!.clamp_max(onlyHigh);
            return x[0]!;
        }

        private Func<Tensor?[], bool, Tensor[]> Dropout()
        {
            var ratio = StaticScalar(1) ?? node.GetFloat("ratio", 0.5f);
            return (x, training) =>
            {
                var y = training && ratio > 0 ? F.dropout(x[0]!, ratio, true) : x[0]!;
                return node.Outputs.Count > 1 ? [y, ones_like(x[0]!, dtype: ScalarType.Bool)] : [y];
            };
        }

        private Tensor Reshape(Tensor?[] x)
        {
            var input = x[0]!;
            var target = (long[])(StaticInts(1) ?? throw new TorchBackendException($"Node '{Name}': the target shape is missing.")).Clone();
            if (node.GetInt("allowzero", 0) == 0)
            {
                for (var i = 0; i < target.Length; i++)
                {
                    if (target[i] == 0) target[i] = input.shape[i];
                }
            }
            return input.reshape(target);
        }

        private Tensor Flatten(Tensor?[] x)
        {
            var input = x[0]!;
            var axis = node.GetInt("axis", 1);
            if (axis < 0) axis += input.dim();
            var rows = input.shape.Take((int)axis).Aggregate(1L, (p, d) => p * d);
            return input.reshape(rows, -1);
        }

        private long[]? Axes() => StaticInts(1) ?? node.GetInts("axes");

        private Tensor Squeeze(Tensor?[] x)
        {
            var input = x[0]!;
            var axes = Axes();
            if (axes is null) return input.squeeze();
            var rank = input.dim();
            var drop = axes.Select(a => a < 0 ? a + rank : a).ToHashSet();
            return input.reshape(input.shape.Where((_, i) => !drop.Contains(i)).ToArray());
        }

        private Tensor Unsqueeze(Tensor?[] x)
        {
            var input = x[0]!;
            var axes = Axes() ?? throw new TorchBackendException($"Node '{Name}': axes are missing.");
            var rank = input.dim() + axes.Length;
            var insert = axes.Select(a => a < 0 ? a + rank : a).ToHashSet();
            var shape = new List<long>();
            var source = 0;
            for (var i = 0; i < rank; i++) shape.Add(insert.Contains(i) ? 1 : input.shape[source++]);
            return input.reshape([.. shape]);
        }

        private Tensor Slice(Tensor?[] x)
        {
            var input = x[0]!;
            var starts = StaticInts(1) ?? node.GetInts("starts") ?? throw new TorchBackendException($"Node '{Name}': starts are missing.");
            var ends = StaticInts(2) ?? node.GetInts("ends") ?? throw new TorchBackendException($"Node '{Name}': ends are missing.");
            var axes = StaticInts(3) ?? node.GetInts("axes") ?? Enumerable.Range(0, starts.Length).Select(i => (long)i).ToArray();
            var steps = StaticInts(4) ?? Enumerable.Repeat(1L, starts.Length).ToArray();
            var y = input;
            for (var i = 0; i < axes.Length; i++)
            {
                var axis = axes[i] < 0 ? axes[i] + input.dim() : axes[i];
                var length = input.shape[axis];
                if (steps[i] <= 0) throw new TorchBackendException($"Node '{Name}': Slice with step {steps[i]} is not supported.");
                var start = Math.Clamp(starts[i] < 0 ? starts[i] + length : starts[i], 0, length);
                var end = Math.Clamp(ends[i] < 0 ? ends[i] + length : ends[i], 0, length);
                y = y.slice(axis, start, Math.Max(start, end), steps[i]);
            }
            return y;
        }

        private Tensor Pad(Tensor?[] x)
        {
            var mode = node.GetString("mode", "constant");
            if (mode != "constant") throw new TorchBackendException($"Node '{Name}': Pad mode '{mode}' is not supported.");
            var pads = StaticInts(1) ?? node.GetInts("pads") ?? throw new TorchBackendException($"Node '{Name}': pads are missing.");
            var value = StaticScalar(2) ?? node.GetFloat("value", 0f);
            if (pads.Any(p => p < 0)) throw new TorchBackendException($"Node '{Name}': negative pads are not supported.");
            return F.pad(x[0]!, TorchPadOrder(pads), PaddingModes.Constant, value);
        }
    }
}
