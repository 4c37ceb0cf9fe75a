using Acp.Engine.Execution.Layers;
using Acp.Engine.Kernels;

namespace Acp.Engine.Execution;

/// <summary>
/// Inference-mode fusion of Conv [→ BatchNormalization] [→ Add] [→ Relu] chains into one convolution: the
/// normalisation is folded into the convolution's weights and bias (recomputed at every pass, so weight updates and
/// recalibrated statistics are always seen), and the residual Add and the Relu run in the convolution's store. Models
/// exported with the normalisation already folded (torchvision's eval-mode exports) fuse Conv → [Add →] Relu: at
/// 224 px the separate Relu and Add passes took a quarter of a ResNet-18 inference pass.
/// </summary>
/// <remarks>
/// <para>Chains are found once from the graph: each value inside a chain must have exactly one consumer (the next
/// node of the chain) and must not be the network's output. Whether, and how far, a chain fuses is decided when a
/// pass is planned (<see cref="ExecutionPlan"/>: again whenever a hook, a mask's presence or the input shape
/// changes), and the chain then runs as one <see cref="ConvBatchNormLayer"/>:</para>
/// <list type="bullet">
/// <item>a value someone captures is materialised: the chain stops there (an observed convolution output disables
/// the chain), and the rest runs unfused;</item>
/// <item>a channel mask on the convolution's output or on the normalisation's output is folded into the weights (a
/// masked convolution channel leaves the normalisation's shift, a masked normalisation channel leaves zero), which is
/// what the unfused nodes compute;</item>
/// <item>a mask on the Add's output stops the chain at the Add, whose output is then masked as usual;</item>
/// <item>an Add whose operands are broadcast (shapes differ) is not fused.</item>
/// </list>
/// <para>The fused chain runs at the position of its last fused node, which is after every value it reads has been
/// computed (its residual operand comes before the Add in topological order). The values inside the chain are not
/// written; nothing can read them (single consumer, no observer), and a backward pass after an inference pass is
/// refused by the BatchNormalization, fused or not; before a backward after an inference pass with chains without a
/// normalisation, the network replays that pass unfused (<see cref="ConvChain.HasNorm"/>). Results differ from the unfused nodes only by float rounding (the
/// scale multiplies the weights instead of the sums).</para>
/// <para>Between chains, a result that only other fused convolutions read (as input or residual) is handed over in
/// a reader's padded canvas layout that all of them read in place, in a buffer of the producing chain, so the readers
/// skip copying it into a canvas (<see cref="PlanPaddedValues"/>): same bits; a ResNet-20 inference pass took
/// 0.94–0.985× the time with exact-canvas hand-overs, and 0.98× of that again once readers accepted any layout they
/// can read in place.</para>
/// </remarks>
internal sealed class InferenceFusion
{
    private readonly IReadOnlyList<Layer> _layers;
    private readonly List<ConvChain> _chains;
    private readonly ConvChain?[] _runAt;
    private readonly bool[] _skip;
    private readonly ValueSlot _output;
    private readonly Dictionary<ValueSlot, List<int>> _consumers;

    /// <summary>The chain each layer belongs to, if any.</summary>
    private readonly ConvChain?[] _chainOf;

    /// <summary>Values handed from one fused convolution to the next in a padded buffer this pass, by value.</summary>
    private readonly Dictionary<ValueSlot, ConvChain> _padded = [];

    /// <summary>Bytes of the chains' padded hand-over buffers.</summary>
    public long BufferBytes => _chains.Sum(c => c.BufferBytes);

    /// <summary>Drops the chains' padded hand-over buffers (the next pass that pads allocates them again, zeroed).</summary>
    public void ReleaseBuffers()
    {
        foreach (var chain in _chains) chain.ReleaseBuffers();
    }

    private InferenceFusion(IReadOnlyList<Layer> layers, List<ConvChain> chains, ValueSlot output, Dictionary<ValueSlot, List<int>> consumers)
    {
        _layers = layers;
        _chains = chains;
        _output = output;
        _consumers = consumers;
        _runAt = new ConvChain?[layers.Count];
        _skip = new bool[layers.Count];
        _chainOf = new ConvChain?[layers.Count];
        foreach (var chain in chains)
        {
            foreach (var position in chain.Positions) _chainOf[position] = chain;
        }
    }

    /// <summary>Whether the graph has any chain that could fuse.</summary>
    public bool HasChains => _chains.Count > 0;

    /// <summary>Finds the chains of <paramref name="layers"/> (in execution order); <paramref name="output"/> is never fused away.</summary>
    public static InferenceFusion Build(IReadOnlyList<Layer> layers, ValueSlot output)
    {
        var consumers = new Dictionary<ValueSlot, List<int>>();
        for (var i = 0; i < layers.Count; i++)
        {
            foreach (var input in layers[i].Inputs.OfType<ValueSlot>().Distinct())
            {
                if (!consumers.TryGetValue(input, out var list)) consumers[input] = list = [];
                list.Add(i);
            }
        }
        var producers = new Dictionary<ValueSlot, int>();
        for (var i = 0; i < layers.Count; i++)
        {
            foreach (var o in layers[i].Outputs) producers[o] = i;
        }
        int? SoleConsumer(ValueSlot slot) =>
            slot != output && consumers.TryGetValue(slot, out var list) && list.Count == 1 ? list[0] : null;

        var chains = new List<ConvChain>();
        for (var i = 0; i < layers.Count; i++)
        {
            if (layers[i] is not ConvLayer conv || conv.Outputs.Length != 1 || conv.Inputs.Length < 2 || conv.Inputs[1] is null) continue;
            var positions = new List<int> { i };
            BatchNormLayer? norm = null;
            if (SoleConsumer(conv.Outputs[0]) is { } bnAt && layers[bnAt] is BatchNormLayer candidateNorm)
            {
                if (candidateNorm.Outputs.Length != 1 || candidateNorm.Inputs.Length < 5 || candidateNorm.Inputs[0] != conv.Outputs[0]
                    || candidateNorm.Inputs.Skip(1).Take(4).Any(s => s is null)) continue;
                norm = candidateNorm;
                positions.Add(bnAt);
            }
            // Without a normalisation (a model exported with it folded into the convolutions), the chain is the
            // convolution and what follows it: Add and Relu are then the whole saving.
            var normalised = norm?.Outputs[0] ?? conv.Outputs[0];
            var last = positions[^1];
            BinaryLayer? add = null;
            ActivationLayer? relu = null;
            var next = SoleConsumer(normalised);
            if (next is { } addAt && layers[addAt] is BinaryLayer { Node.OpType: "Add" } candidate
                && candidate.Inputs.Length == 2 && candidate.Inputs[0] is not null && candidate.Inputs[1] is not null
                && candidate.Inputs[0] != candidate.Inputs[1]
                // Of two convolution branches meeting at an Add (a projection shortcut), the later one takes the Add,
                // so the other operand is a value the pass has already materialised.
                && producers.GetValueOrDefault(candidate.Inputs[0] == normalised ? candidate.Inputs[1]! : candidate.Inputs[0]!, -1) < last)
            {
                add = candidate;
                positions.Add(addAt);
                next = SoleConsumer(add.Outputs[0]);
            }
            if (next is { } reluAt && layers[reluAt] is ActivationLayer { Node.OpType: "Relu" } activation && activation.Outputs.Length == 1)
            {
                relu = activation;
                positions.Add(reluAt);
            }
            if (positions.Count > 1) chains.Add(new ConvChain(conv, norm, add, relu, [.. positions]));
        }
        return new InferenceFusion(layers, chains, output, consumers);
    }

    /// <summary>
    /// Plans an inference pass: decides which chains fuse and how far, given the hooks, masks and shapes of the
    /// pass, and rewrites the layer list accordingly: each fused chain becomes one <see cref="ConvBatchNormLayer"/> in
    /// <paramref name="replacements"/> at the position of its last fused node, and the positions of its other nodes
    /// are set in <paramref name="skips"/>. With <paramref name="padActivations"/>, a chain's result goes straight into
    /// the padded canvas layout of the convolutions that read it, when nothing else does (see
    /// <see cref="PlanPaddedValues"/>).
    /// </summary>
    public void Rewrite(bool padActivations, Layer?[] replacements, bool[] skips)
    {
        Prepare(padActivations);
        for (var i = 0; i < _layers.Count; i++)
        {
            if (_skip[i]) skips[i] = true;
            if (_runAt[i] is { } chain) replacements[i] = new ConvBatchNormLayer(chain, _padded);
        }
    }

    private void Prepare(bool padActivations)
    {
        Array.Clear(_runAt);
        Array.Clear(_skip);
        foreach (var chain in _chains)
        {
            chain.ClearPaddedOutput();
            var length = chain.Prepare();
            if (length == 0) continue;
            for (var k = 0; k < length - 1; k++) _skip[chain.Positions[k]] = true;
            _runAt[chain.Positions[length - 1]] = chain;
        }
        _padded.Clear();
        if (padActivations) PlanPaddedValues();
    }

    /// <summary>
    /// A fused chain's result is written padded (zeros around each plane, laid out as one of its readers' input canvas,
    /// so they skip copying it into one) when every reader is a fused chain that takes it either as its convolution's
    /// input, through the by-channel kernel and able to read that canvas in place (<see cref="ConvByChannel.ReadsInPlace"/>:
    /// a strided 1×1 shortcut reads its neighbour's padded canvas), or as its residual; at least one must be a
    /// convolution. The result is bitwise the same; the value's own buffer is then not written, which is safe because
    /// nothing else reads it: it is not the output, not captured and not masked.
    /// </summary>
    private void PlanPaddedValues()
    {
        var convReaders = new List<ConvGeometry>();
        foreach (var chain in _chains)
        {
            if (!chain.IsFused || !chain.RunsByChannel) continue;
            var value = chain.End;
            if (value == _output || value.Observers.Count > 0 || value.ChannelMask is not null) continue;
            if (!_consumers.TryGetValue(value, out var readers)) continue;
            convReaders.Clear();
            var usable = true;
            foreach (var at in readers)
            {
                var reader = _chainOf[at];
                var fusedHere = _skip[at] || _runAt[at] is not null;
                if (reader is null || !fusedHere || !reader.RunsByChannel) usable = false;
                else if (at == reader.Positions[0] && reader.ConvInput == value) convReaders.Add(reader.Geometry);
                else usable = reader.Residual == value;
                if (!usable) break;
            }
            if (!usable) continue;
            // The first reader's canvas that every convolution reading the value can read in place.
            var layout = convReaders.Select(g => ConvByChannel.CanvasLayout(g))
                .FirstOrDefault(canvas => canvas is { } planes && convReaders.All(g => ConvByChannel.ReadsInPlace(g, planes)));
            if (layout is { } chosen)
            {
                chain.UsePaddedOutput(chosen);
                _padded[value] = chain;
            }
        }
    }

    /// <summary>How many values the last planned pass hands over padded.</summary>
    public int PaddedValueCount => _padded.Count;

    /// <summary>
    /// One Conv [→ BatchNormalization] [→ Add] [→ Relu] chain (at least one node after the convolution) and its
    /// folded weights.
    /// </summary>
    internal sealed class ConvChain(ConvLayer conv, BatchNormLayer? norm, BinaryLayer? add, ActivationLayer? relu, int[] positions)
    {
        private float[] _weights = [];
        private float[] _bias = [];
        private ValueSlot? _residual;
        private bool _relu;
        private float[] _paddedBuffer = [];
        private PlaneLayout? _paddedBufferLayout;

        /// <summary>The convolution's node, for messages.</summary>
        public Onnx.Ir.Node ConvNode => conv.Node;

        /// <summary>Bytes of the padded hand-over buffer.</summary>
        public long BufferBytes => sizeof(float) * (long)_paddedBuffer.Length;

        /// <summary>Drops the padded hand-over buffer; <see cref="UsePaddedOutput"/> allocates a zeroed one again.</summary>
        public void ReleaseBuffers()
        {
            _paddedBuffer = [];
            _paddedBufferLayout = null;
            PaddedLayout = null;
        }

        /// <summary>Every value the fused pass reads: the convolution's inputs, the normalisation's parameters and the residual.</summary>
        public ValueSlot?[] Inputs => [.. conv.Inputs, .. norm?.Inputs.Skip(1) ?? [], .. _residual is null ? Array.Empty<ValueSlot?>() : [_residual]];

        /// <summary>
        /// Whether the chain has a normalisation. One without keeps none of the values a backward pass reads (the
        /// convolution's output, and its input when handed over padded), so the network recomputes an inference pass
        /// unfused before a backward through it; a normalisation in inference mode refuses backward in any case.
        /// </summary>
        public bool HasNorm => norm is not null;

        /// <summary>The convolution's geometry in the current plan.</summary>
        public ConvGeometry Geometry => conv.Geometry;

        /// <summary>The value the convolution reads.</summary>
        public ValueSlot? ConvInput => conv.Inputs[0];

        /// <summary>The Add's other operand when the Add fuses in this pass, else null.</summary>
        public ValueSlot? Residual => _residual;

        /// <summary>Whether the chain fuses in this pass.</summary>
        public bool IsFused { get; private set; }

        /// <summary>Whether the convolution runs through the kernel that takes padded layouts.</summary>
        public bool RunsByChannel => Conv2d.ForwardRunsByChannel(conv.Geometry);

        /// <summary>Layout of <see cref="PaddedOutput"/> when the result goes there in this pass, else null.</summary>
        public PlaneLayout? PaddedLayout { get; private set; }

        /// <summary>The padded buffer this pass writes (valid when <see cref="PaddedLayout"/> is set).</summary>
        public float[] PaddedOutput => _paddedBuffer;

        /// <summary>Back to writing <see cref="End"/> itself (every pass starts so).</summary>
        public void ClearPaddedOutput() => PaddedLayout = null;

        /// <summary>
        /// Sends this pass's result into a buffer laid out as <paramref name="layout"/>. The buffer is kept from pass
        /// to pass: only pixels are ever written, so the zeros around them stay.
        /// </summary>
        public void UsePaddedOutput(PlaneLayout layout)
        {
            var shape = End.Shape;
            var length = (long)shape[0] * shape[1] * layout.Plane;
            if (_paddedBufferLayout != layout || _paddedBuffer.Length < length)
            {
                _paddedBuffer = new float[length];
                _paddedBufferLayout = layout;
            }
            PaddedLayout = layout;
        }

        /// <summary>Layer indices of the chain's nodes, in order (conv, norm, then add and relu when present).</summary>
        public int[] Positions { get; } = positions;

        /// <summary>The value the fused pass writes (the last fused node's output).</summary>
        public ValueSlot End { get; private set; } = (norm ?? (Layer)conv).Outputs[0];

        /// <summary>Operator names of the fused nodes, for the profile.</summary>
        public string Name { get; private set; } = "";

        /// <summary>How many of the chain's nodes fuse in this pass (0: none, run them as usual).</summary>
        public int Prepare()
        {
            var convOut = conv.Outputs[0];
            var normOut = norm?.Outputs[0] ?? convOut;
            IsFused = false;
            _residual = null;
            _relu = false;
            if (convOut.Observers.Count > 0) return 0;
            var length = norm is null ? 1 : 2;
            var fusesAdd = false;
            if (normOut.Observers.Count == 0)
            {
                if (add is not null)
                {
                    var residual = add.Inputs[0] == normOut ? add.Inputs[1]! : add.Inputs[0]!;
                    var sum = add.Outputs[0];
                    // An Add over a mask of the convolution's own output (no normalisation between) sees the masked
                    // channels as zeros, which the fold gives too; a mask on the Add's output stops the chain there.
                    if (residual.Shape.AsSpan().SequenceEqual(normOut.Shape) && sum.Shape.AsSpan().SequenceEqual(normOut.Shape))
                    {
                        _residual = residual;
                        fusesAdd = true;
                        length++;
                        if (relu is not null && sum.Observers.Count == 0 && sum.ChannelMask is null)
                        {
                            _relu = true;
                            length++;
                        }
                    }
                }
                else if (relu is not null)
                {
                    _relu = true;
                    length++;
                }
            }
            // A lone convolution is a chain of one: the plain layer runs it.
            if (length == 1) return 0;
            IsFused = true;
            End = _relu ? relu!.Outputs[0] : fusesAdd ? add!.Outputs[0] : normOut;
            Name = "Conv" + (norm is null ? "" : "+BatchNormalization") + (fusesAdd ? "+Add" : "") + (_relu ? "+Relu" : "");
            return length;
        }

        /// <summary>
        /// Folds the current weights, running statistics and masks, and runs the fused chain into <see cref="End"/>
        /// (or its padded buffer); inputs and residuals that other chains wrote padded (<paramref name="padded"/>) are
        /// read there.
        /// </summary>
        public void Run(IReadOnlyDictionary<ValueSlot, ConvChain> padded)
        {
            var (weights, bias) = Fold(conv.Outputs[0].ChannelMask, norm?.Outputs[0].ChannelMask);
            var input = conv.Inputs[0]!;
            var x = input.Data;
            PlaneLayout? inputLayout = null;
            if (padded.TryGetValue(input, out var inputProducer))
            {
                x = inputProducer.PaddedOutput;
                inputLayout = inputProducer.PaddedLayout;
            }
            var residual = _residual?.Data;
            PlaneLayout? residualLayout = null;
            if (_residual is not null && padded.TryGetValue(_residual, out var residualProducer))
            {
                residual = residualProducer.PaddedOutput;
                residualLayout = residualProducer.PaddedLayout;
            }
            var y = PaddedLayout is null ? End.Data : _paddedBuffer;
            Conv2d.Forward(conv.Geometry, x, weights, bias, y, new ConvEpilogue(residual, _relu), new ConvLayouts(inputLayout, PaddedLayout, residualLayout));
            norm?.MarkFoldedInference();
        }

        /// <summary>
        /// A fused chain runs only in inference passes: the normalisation refuses a backward on inference statistics,
        /// and the network replays a pass with chains without one unfused before any backward (see <see cref="HasNorm"/>).
        /// </summary>
        public void Backward()
        {
            if (norm is null) throw new InvalidOperationException($"Backward through the fused chain of '{conv.Node.DisplayName}': the pass should have been replayed unfused.");
            norm.Backward();
        }

        /// <summary>
        /// w′[o] = w[o]·a[o], b′[o] = a[o]·bias[o] + (β[o] − μ[o]·a[o]) with a = γ/√(σ² + ε), in double; masked
        /// channels as the unfused nodes would compute them. Without a normalisation, the convolution's own weights
        /// and bias, copied only to zero masked channels.
        /// </summary>
        private (float[] Weights, float[]? Bias) Fold(bool[]? convMask, bool[]? normMask)
        {
            var w = conv.Inputs[1]!.Data;
            var convBias = conv.Inputs.Length > 2 ? conv.Inputs[2]?.Data : null;
            if (norm is null && convMask is null) return (w, convBias);
            var outChannels = conv.Geometry.OutChannels;
            var perChannel = (int)(conv.Geometry.WeightLength / Math.Max(1, outChannels));
            if (_weights.Length != outChannels * perChannel) _weights = new float[outChannels * perChannel];
            if (_bias.Length != outChannels) _bias = new float[outChannels];
            if (norm is null)
            {
                w.AsSpan(0, _weights.Length).CopyTo(_weights);
                if (convBias is null) Array.Clear(_bias);
                else convBias.AsSpan(0, outChannels).CopyTo(_bias);
                for (var o = 0; o < outChannels; o++)
                {
                    if (convMask![o]) continue;
                    _weights.AsSpan(o * perChannel, perChannel).Clear();
                    _bias[o] = 0f;
                }
                return (_weights, _bias);
            }
            var scale = norm.Inputs[1]!.Data;
            var shift = norm.Inputs[2]!.Data;
            var mean = norm.Inputs[3]!.Data;
            var variance = norm.Inputs[4]!.Data;
            var eps = (double)norm.Eps;
            for (var o = 0; o < outChannels; o++)
            {
                var a = scale[o] / Math.Sqrt(variance[o] + eps);
                var b = shift[o] - mean[o] * a;
                var row = _weights.AsSpan(o * perChannel, perChannel);
                if (normMask is not null && !normMask[o])
                {
                    row.Clear();
                    _bias[o] = 0f;
                    continue;
                }
                if (convMask is not null && !convMask[o])
                {
                    row.Clear();
                    _bias[o] = (float)b;
                    continue;
                }
                var source = w.AsSpan(o * perChannel, perChannel);
                for (var k = 0; k < perChannel; k++) row[k] = (float)(source[k] * a);
                _bias[o] = (float)(a * (convBias?[o] ?? 0f) + b);
            }
            return (_weights, _bias);
        }
    }
}
