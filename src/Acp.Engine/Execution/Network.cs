using Acp.Engine.Execution.Layers;
using Acp.Engine.Tensors;
using Acp.Onnx.Analysis;
using Acp.Onnx.Ir;

namespace Acp.Engine.Execution;

/// <summary>
/// An ONNX graph made runnable: forward in inference or training mode, backward to every trainable parameter,
/// hooks that capture or mask any intermediate value, and write-back of trained weights into the ONNX IR.
/// </summary>
/// <remarks>
/// Shapes are planned per input shape with Acp's shape inference, which also folds the shape-computation chains
/// exporters emit (Shape → Gather → Concat → Reshape); those nodes never run. Each pass runs a plain list of layers,
/// planned once per mode, shape and set of hooks (the internal ExecutionPlan): the fusion passes rewrite the node
/// layers into fused ones there, and profiling wraps them, so the forward and backward loops have no special cases.
/// Buffers are allocated when a shape is first seen and reused for every later step with the same shape. Not
/// thread-safe: one network runs one batch at a time, and its kernels use all cores.
/// </remarks>
public sealed class Network
{
    private readonly OnnxModel _model;
    private readonly Dictionary<string, ValueSlot> _slots = new(StringComparer.Ordinal);
    private readonly List<Layer> _layers = [];
    private readonly HashSet<string> _staticValues = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Node> _identityWeights = new(StringComparer.Ordinal);
    private readonly ValueSlot _input;
    private readonly ValueSlot _output;
    private readonly ValueInfo _inputInfo;
    private int[]? _plannedShape;

    private Network(OnnxModel model, int seed)
    {
        _model = model;
        var graph = model.Graph;
        var index = graph.BuildIndex();
        if (index.Problems.Count > 0 || index.TopologicalOrder is not { } order)
        {
            throw new EngineException($"The graph is invalid: {string.Join(" ", index.Problems.Take(3))}");
        }
        var runtimeInputs = graph.RuntimeInputs.ToList();
        if (runtimeInputs.Count != 1)
        {
            throw new EngineException($"The engine runs networks with exactly one image input; this graph has {runtimeInputs.Count} ({string.Join(", ", runtimeInputs.Select(i => i.Name))}).");
        }
        _inputInfo = runtimeInputs[0];
        if (_inputInfo.ElementType is not ElementType.Float)
        {
            throw new EngineException($"Input '{_inputInfo.Name}' must be float32.");
        }

        // Values that shape inference folds at any batch size (Constant nodes, shape chains) are compile-time data.
        var probe = ShapeInference.Run(model);
        foreach (var node in order)
        {
            if (!IsIdentityOfWeight(node) && node.Outputs.Where(o => o.Length > 0).All(probe.Constants.ContainsKey)) _staticValues.UnionWith(node.Outputs);
        }

        _input = Slot(_inputInfo.Name);
        var random = new Random(seed);
        foreach (var node in order.Where(n => !n.Outputs.All(o => o.Length == 0 || _staticValues.Contains(o))))
        {
            if (IsIdentityOfWeight(node))
            {
                // torch.onnx writes distinct parameters that hold equal values as Identity nodes over one initializer;
                // each is its own parameter in PyTorch, so each gets its own trainable copy here.
                var source = _model.Graph.Initializers[node.Inputs[0]];
                _slots[node.Outputs[0]] = new ValueSlot(node.Outputs[0]) { IsPersistent = true, Constant = source.WithName(node.Outputs[0]) };
                _identityWeights[node.Outputs[0]] = node;
                continue;
            }
            var inputs = node.Inputs.Select(i => i.Length == 0 ? null : Slot(i)).ToArray();
            var outputs = node.Outputs.Select(Slot).ToArray();
            _layers.Add(LayerFactory.Create(node, inputs, outputs, random));
        }
        var outputName = graph.Outputs.FirstOrDefault()?.Name ?? throw new EngineException("The graph has no output.");
        _output = _slots.TryGetValue(outputName, out var output) ? output : throw new EngineException($"Output '{outputName}' is not computed by any supported node.");

        MarkTrainable();
        LoadInitializers();
        Parameters = _layers.SelectMany(l => l.TrainableInputs).Distinct().Select(s => new Parameter(s)).ToList();
        BatchNormLayers = _layers.OfType<BatchNormLayer>().ToList();
        _inferenceFusion = InferenceFusion.Build(_layers, _output);
        _trainingFusion = TrainingFusion.Build(_layers, _output);
    }

    private readonly InferenceFusion _inferenceFusion;
    private readonly TrainingFusion _trainingFusion;

    /// <summary>The plans of the last inference pass [0] and the last training pass [1], reused while their settings hold.</summary>
    private readonly ExecutionPlan?[] _plans = new ExecutionPlan?[2];

    /// <summary>The plan the last forward pass ran, which its backward pass walks in reverse.</summary>
    private ExecutionPlan? _lastPass;

    /// <summary>Changes whenever the input shape is re-planned.</summary>
    private int _shapeGeneration;

    /// <summary>Changes whenever a hook or a channel mask is added or removed: fusion decisions depend on them.</summary>
    private int _hookGeneration;

    /// <summary>The trainable tensors, in graph order.</summary>
    public IReadOnlyList<Parameter> Parameters { get; }

    /// <summary>Training mode: BatchNormalization uses batch statistics and updates its running ones; Dropout drops.</summary>
    public bool Training { get; set; }

    /// <summary>
    /// When true (the default), an inference-mode forward runs each Conv [→ BatchNormalization] [→ Add] [→ Relu] chain
    /// as one convolution with the normalisation folded into its weights. Captured values and channel masks are
    /// honoured exactly as in the unfused pass; outputs differ only by float rounding. Training ignores it. A backward
    /// after such a pass through chains without a normalisation first replays the pass unfused.
    /// </summary>
    public bool FuseInferenceLayers { get; set; } = true;

    /// <summary>
    /// When true (the default), fused convolutions whose result only other fused convolutions read hand it over in a
    /// padded layout every reader can read in place, so they skip copying it into a padded canvas; same bits. A switch
    /// for tests and benchmarks.
    /// </summary>
    internal bool PadFusedActivations { get; set; } = true;

    /// <summary>How many values the last inference pass handed over padded (see <see cref="PadFusedActivations"/>).</summary>
    internal int PaddedActivationCount => _plans[0]?.PaddedValueCount ?? 0;

    /// <summary>
    /// When true (the default), a training-mode forward runs each BatchNormalization → Relu pair as one pass (and
    /// its backward as one pass), unless the normalisation's output is captured or masked. The results have the same
    /// bits as the unfused nodes.
    /// </summary>
    public bool FuseTrainingLayers { get; set; } = true;

    /// <summary>
    /// When set, every layer's forward and backward time is added to it, by operator (fused layers as their operators
    /// joined by '+'): profile before guessing. Each layer of the pass is then wrapped in a timing layer.
    /// </summary>
    public LayerProfile? Profile { get; set; }

    /// <summary>The image input's name.</summary>
    public string InputName => _input.Name;

    /// <summary>The output the loss is computed on (the graph's first output).</summary>
    public string OutputName => _output.Name;

    /// <summary>Names of every value a layer computes, in execution order: the places hooks and masks can attach.</summary>
    public IEnumerable<string> ComputedValues => _layers.SelectMany(l => l.Outputs).Select(s => s.Name);

    internal IReadOnlyList<BatchNormLayer> BatchNormLayers { get; }

    /// <summary>Builds a runnable network from a model. The model is not modified; weights are copied.</summary>
    /// <exception cref="EngineException">An operator is unsupported, or an initializer holds NaN or infinity.</exception>
    public static Network Build(OnnxModel model, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(model);
        return new Network(model, seed);
    }

    /// <summary>
    /// Runs the network on a batch and returns the output (a tensor the network reuses: copy what you keep).
    /// </summary>
    /// <exception cref="EngineException">The input's shape does not fit the model, or it holds NaN or infinity.</exception>
    public Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return Forward(input.Shape, input.Data);
    }

    /// <summary>Runs the network on <paramref name="data"/> laid out as <paramref name="shape"/> (e.g. a batch buffer's prefix).</summary>
    public Tensor Forward(int[] shape, ReadOnlySpan<float> data)
    {
        ArgumentNullException.ThrowIfNull(shape);
        CheckInput(shape, data);
        Plan(shape);
        data.CopyTo(_input.Data);
        AfterCompute(_input);
        var pass = PlanPass();
        _lastPass = pass;
        foreach (var layer in pass.Layers)
        {
            layer.Forward(Training);
            foreach (var output in layer.Outputs) AfterCompute(output);
        }
        return _output.AsTensor();
    }

    /// <summary>
    /// Backpropagates d(loss)/d(output) through the last forward pass and leaves every parameter's gradient in
    /// <see cref="Parameter.Gradient"/> (overwritten, not accumulated across calls).
    /// </summary>
    public void Backward(ReadOnlySpan<float> outputGradient) => Backward(outputGradient, []);

    /// <summary>
    /// Backpropagates d(loss)/d(output) plus direct loss gradients on intermediate values (a loss on feature maps, such
    /// as attention transfer): each of <paramref name="valueGradients"/> is added to its value's gradient before the
    /// layers that produce the value run backward. The values must be hooked (<see cref="Capture"/>) so that no fused
    /// layer hides them; every parameter's gradient ends in <see cref="Parameter.Gradient"/> (overwritten).
    /// </summary>
    /// <exception cref="ArgumentException">A gradient's length differs from its value's, or the value was not computed by its own layer in the last pass.</exception>
    public void Backward(ReadOnlySpan<float> outputGradient, IReadOnlyList<(string Value, float[] Gradient)> valueGradients)
    {
        ArgumentNullException.ThrowIfNull(valueGradients);
        var pass = _lastPass ?? throw new InvalidOperationException("Backward needs a forward pass first.");
        if (outputGradient.Length != _output.Length)
        {
            throw new ArgumentException($"The output has {_output.Length} elements; the gradient has {outputGradient.Length}.", nameof(outputGradient));
        }
        if (!pass.KeepsBackwardValues) _lastPass = pass = ReplayUnfused(pass);
        foreach (var slot in _slots.Values)
        {
            // Gradient buffers are allocated by the first backward pass of a shape, not by planning: inference-only
            // networks never need them.
            slot.EnsureGradientBuffer();
            slot.BeginBackward();
        }
        var seed = _output.BeginGradient();
        outputGradient.CopyTo(seed);
        _output.EndGradient();
        foreach (var (value, gradient) in valueGradients)
        {
            var slot = ComputedSlot(value);
            if (!pass.Layers.Any(l => l.Outputs.Contains(slot)))
            {
                throw new ArgumentException($"Value '{value}' is not the output of a layer of the last pass (hook it with Capture so that fusion keeps it).", nameof(valueGradients));
            }
            if (gradient.Length != slot.Length) throw new ArgumentException($"Value '{value}' has {slot.Length} elements; its gradient has {gradient.Length}.", nameof(valueGradients));
            var buffer = slot.BeginGradient();
            gradient.AsSpan().CopyTo(buffer);
            slot.EndGradient();
        }
        for (var i = pass.Layers.Count - 1; i >= 0; i--)
        {
            var layer = pass.Layers[i];
            if (!layer.Inputs.Any(s => s is { RequiresGradient: true }) || !layer.Outputs.Any(o => o.HasGradient)) continue;
            foreach (var output in layer.Outputs)
            {
                if (output.ChannelMask is not null) output.ApplyMask(output.ReadGradient());
            }
            layer.Backward();
        }
        foreach (var p in Parameters)
        {
            if (!p.Slot.HasGradient) Array.Clear(p.Slot.Gradient);
        }
    }

    /// <summary>
    /// Calls <paramref name="observer"/> with <paramref name="value"/> every time a forward pass computes it (after
    /// any mask). The tensor is reused by the network: copy what you keep. Returns a handle that removes the hook.
    /// </summary>
    public IDisposable Capture(string value, Action<Tensor> observer)
    {
        var slot = ComputedSlot(value);
        slot.Observers.Add(observer);
        _hookGeneration++;
        return new Unsubscriber(() =>
        {
            if (slot.Observers.Remove(observer)) _hookGeneration++;
        });
    }

    /// <summary>
    /// Forces channels (axis 1) of <paramref name="value"/> to zero in forward and in backward, as if they were
    /// removed; null clears the mask. This is how a pruned structure is evaluated without rebuilding the graph.
    /// </summary>
    public void SetChannelMask(string value, bool[]? keep)
    {
        var slot = ComputedSlot(value);
        if (keep is not null && slot.Shape.Length >= 2 && slot.Shape[1] != keep.Length)
        {
            throw new ArgumentException($"Value '{value}' has {slot.Shape[1]} channels; the mask has {keep.Length}.", nameof(keep));
        }
        if ((slot.ChannelMask is null) != (keep is null)) _hookGeneration++;
        slot.ChannelMask = keep?.ToArray();
    }

    /// <summary>
    /// Recomputes every BatchNormalization's running statistics from the given batches: each batch counts equally and
    /// no weight changes. Used to re-fit statistics after channels are removed.
    /// </summary>
    public void RecalibrateBatchNorm(IEnumerable<Tensor> batches, CancellationToken cancellation = default)
    {
        var wasTraining = Training;
        Training = true;
        foreach (var bn in BatchNormLayers) bn.Recalibrating = true;
        try
        {
            foreach (var batch in batches)
            {
                cancellation.ThrowIfCancellationRequested();
                Forward(batch);
            }
        }
        finally
        {
            foreach (var bn in BatchNormLayers) bn.Recalibrating = false;
            Training = wasTraining;
        }
    }

    /// <summary>
    /// Copies the current weights and running statistics into <paramref name="model"/>'s initializers (by name), so
    /// that the trained network can be saved as ONNX. The model must have the same initializers as the one built from.
    /// A weight that was an Identity over a shared initializer becomes an initializer of its own (the Identity node is
    /// removed), because training has made it differ from the tensor it shared.
    /// </summary>
    public void WriteWeightsTo(OnnxModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        foreach (var slot in _slots.Values.Where(s => s.IsPersistent))
        {
            var dims = slot.Constant!.Dims;
            if (_identityWeights.TryGetValue(slot.Name, out var identity))
            {
                var index = model.Graph.Nodes.FindIndex(n => n.OpType == "Identity" && n.Outputs.Count == 1 && n.Outputs[0] == slot.Name);
                if (index >= 0) model.Graph.Nodes.RemoveAt(index);
                else if (!model.Graph.Initializers.Contains(slot.Name)) throw new ArgumentException($"The model has no node '{identity.DisplayName}' nor an initializer '{slot.Name}'.", nameof(model));
            }
            else if (!model.Graph.Initializers.Contains(slot.Name))
            {
                throw new ArgumentException($"The model has no initializer '{slot.Name}'.", nameof(model));
            }
            model.Graph.Initializers.Set(OnnxTensor.FromFloats(slot.Name, dims, (float[])slot.Data.Clone()));
        }
    }

    /// <summary>
    /// Drops every buffer a pass computes into (values, gradients, scratch, the fused layers' padded buffers) so that
    /// their memory is free at once rather than when this network becomes garbage; weights and running statistics stay.
    /// The next forward plans its shape again and allocates what it needs. A network no longer used (a scored candidate)
    /// or idle for a long stretch (the teacher between stages) calls it.
    /// </summary>
    public void ReleaseBuffers()
    {
        foreach (var slot in _slots.Values)
        {
            if (!_staticValues.Contains(slot.Name)) slot.ReleaseBuffers();
        }
        foreach (var layer in _layers) layer.ReleaseBuffers();
        _inferenceFusion.ReleaseBuffers();
        _plans[0] = _plans[1] = null;
        _lastPass = null;
        _plannedShape = null;
    }

    /// <summary>Bytes held by the buffers <see cref="ReleaseBuffers"/> drops: what this network costs beyond its weights.</summary>
    public long BufferBytes => _slots.Values.Where(s => !_staticValues.Contains(s.Name)).Sum(s => s.BufferBytes)
        + _layers.Sum(l => l.BufferBytes) + _inferenceFusion.BufferBytes;

    private bool IsIdentityOfWeight(Node node) =>
        node is { IsStandard: true, OpType: "Identity", Inputs.Count: 1, Outputs.Count: 1 }
        && _model.Graph.Initializers.TryGet(node.Inputs[0], out var source) && source.IsFloat
        && !_model.Graph.Outputs.Any(o => o.Name == node.Outputs[0]);

    private ValueSlot Slot(string name)
    {
        if (!_slots.TryGetValue(name, out var slot))
        {
            var isInitializer = _model.Graph.Initializers.TryGet(name, out var tensor);
            slot = new ValueSlot(name) { IsPersistent = isInitializer && tensor!.IsFloat, Constant = tensor };
            _slots[name] = slot;
        }
        return slot;
    }

    private ValueSlot ComputedSlot(string value) =>
        _slots.TryGetValue(value, out var slot) && (slot == _input || _layers.Any(l => l.Outputs.Contains(slot)))
            ? slot
            : throw new ArgumentException($"'{value}' is not a value the network computes.", nameof(value));

    /// <summary>Trainable initializers need gradients, and so does everything computed from them.</summary>
    private void MarkTrainable()
    {
        foreach (var layer in _layers)
        {
            foreach (var slot in layer.TrainableInputs) slot.RequiresGradient = true;
        }
        foreach (var layer in _layers)
        {
            if (layer.Inputs.Any(s => s is { RequiresGradient: true }))
            {
                foreach (var output in layer.Outputs) output.RequiresGradient = true;
            }
        }
    }

    private void LoadInitializers()
    {
        foreach (var slot in _slots.Values.Where(s => s.IsPersistent))
        {
            var tensor = slot.Constant!;
            var data = (float[])tensor.Floats.Clone();
            var bad = Array.FindIndex(data, v => !float.IsFinite(v));
            if (bad >= 0) throw new EngineException($"Initializer '{slot.Name}' holds {data[bad]} at element {bad}.");
            slot.SetPersistentData(tensor.Dims.Select(d => (int)d).ToArray(), data);
        }
    }

    private void CheckInput(int[] shape, ReadOnlySpan<float> data)
    {
        var text = "[" + string.Join(",", shape) + "]";
        if (data.Length != Tensor.ElementCount(shape))
        {
            throw new ArgumentException($"Shape {text} needs {Tensor.ElementCount(shape)} elements; {data.Length} given.", nameof(data));
        }
        if (_inputInfo.Shape is { } declared)
        {
            var fits = declared.Length == shape.Length && declared.Select((d, i) => d.Value is not { } v || v == shape[i]).All(ok => ok);
            if (!fits) throw new EngineException($"Input '{_inputInfo.Name}' must be {_inputInfo.ShapeText}; got {text}.");
        }
        for (var i = 0; i < data.Length; i++)
        {
            if (!float.IsFinite(data[i])) throw new EngineException($"Input '{_inputInfo.Name}' holds {data[i]} at element {i}.");
        }
    }

    private void Plan(int[] inputShape)
    {
        if (_plannedShape is not null && _plannedShape.AsSpan().SequenceEqual(inputShape)) return;
        var shapes = ShapeInference.Run(_model, new Dictionary<string, long[]> { [_input.Name] = inputShape.Select(d => (long)d).ToArray() });
        var needed = _layers.SelectMany(l => l.Outputs.Select(o => o.Name)).ToHashSet();
        var problems = shapes.Diagnostics.Where(d => d.Node is null || d.Node.Outputs.Any(needed.Contains)).ToList();
        if (problems.Count > 0)
        {
            throw new EngineException($"The network cannot run on input {'['}{string.Join(",", inputShape)}]: {string.Join(" ", problems.Take(3))}");
        }
        foreach (var name in _staticValues)
        {
            if (!_slots.TryGetValue(name, out var slot)) continue;
            slot.Constant = shapes.Constants.GetValueOrDefault(name);
            if (slot.Constant is { IsFloat: true } c) slot.SetConstantData(c.Dims.Select(d => (int)d).ToArray(), c.Floats);
        }
        _input.Resize(inputShape);
        foreach (var layer in _layers)
        {
            foreach (var output in layer.Outputs)
            {
                var shape = shapes.ShapeOf(output.Name) ?? throw new EngineException($"Node '{layer.Node.DisplayName}': the shape of '{output.Name}' is unknown.");
                output.Resize(shape.Select(d => (int)d).ToArray());
                if (output.ChannelMask is { } mask && (shape.Length < 2 || shape[1] != mask.Length))
                {
                    throw new EngineException($"The channel mask of '{output.Name}' has {mask.Length} entries but the value has shape [{string.Join(",", shape)}].");
                }
            }
        }
        foreach (var layer in _layers) layer.Plan();
        _plannedShape = (int[])inputShape.Clone();
        _shapeGeneration++;
    }

    /// <summary>
    /// The layer list of the pass about to run (see <see cref="ExecutionPlan"/>): the one planned for the last pass of
    /// this mode, unless a setting, the input shape, a hook or a mask changed since.
    /// </summary>
    private ExecutionPlan PlanPass()
    {
        var settings = new PassSettings(Training, FuseInferenceLayers, FuseTrainingLayers, PadFusedActivations, Profile, _shapeGeneration, _hookGeneration);
        ref var plan = ref _plans[Training ? 1 : 0];
        if (plan is null || plan.Settings != settings) plan = ExecutionPlan.Build(_layers, _inferenceFusion, _trainingFusion, settings);
        return plan;
    }

    /// <summary>
    /// Runs <paramref name="pass"/> (an inference pass whose fused chains dropped values a backward reads) again
    /// without inference fusion on the same input, masks applied; observers saw the values already and are not called
    /// again. Same results up to float rounding; only a backward after an inference pass pays for it.
    /// </summary>
    private ExecutionPlan ReplayUnfused(ExecutionPlan pass)
    {
        var unfused = ExecutionPlan.Build(_layers, _inferenceFusion, _trainingFusion, pass.Settings with { FuseInference = false });
        foreach (var layer in unfused.Layers)
        {
            layer.Forward(training: false);
            foreach (var output in layer.Outputs)
            {
                if (output.ChannelMask is not null) output.ApplyMask(output.Data);
            }
        }
        return unfused;
    }

    private static void AfterCompute(ValueSlot slot)
    {
        if (slot.ChannelMask is not null) slot.ApplyMask(slot.Data);
        if (slot.Observers.Count == 0) return;
        var view = slot.AsTensor();
        foreach (var observer in slot.Observers) observer(view);
    }

    private sealed class Unsubscriber(Action remove) : IDisposable
    {
        public void Dispose() => remove();
    }
}
