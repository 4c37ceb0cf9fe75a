using Acp.Onnx;
using Acp.Onnx.Analysis;
using Acp.Onnx.Ir;
using Acp.TorchSharp.Native;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Acp.TorchSharp;

/// <summary>
/// An ONNX CNN (Acp's IR) as a TorchSharp module: one step per node, run in graph order. Trainable initializers (the
/// ones Acp's engine trains: convolution and Gemm/MatMul weights and biases, BatchNormalization scale and bias,
/// per-channel operands of Add/Sub/Mul/Div) are parameters named after their initializer; BatchNormalization running
/// statistics are buffers, updated in training mode with the node's momentum; other initializers are constants.
/// </summary>
/// <remarks>
/// Values that shape inference folds at any batch size (Constant nodes, the Shape → Gather → Concat → Reshape chains
/// exporters emit) are computed once at import, exactly as the engine does. The module is a
/// <c>torch.nn.Module&lt;Tensor, Tensor&gt;</c>: <c>train()</c>/<c>eval()</c>, <c>parameters()</c>, optimizers and
/// <c>to(device)</c> work as usual. Not thread-safe.
/// </remarks>
public sealed class OnnxModule : nn.Module<Tensor, Tensor>
{
    private readonly List<Step> _steps = [];
    private readonly Dictionary<string, Tensor> _constants = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Parameter> _weights = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Tensor> _statistics = new(StringComparer.Ordinal);
    private readonly HashSet<string> _identityWeights = new(StringComparer.Ordinal);
    private readonly List<BatchNormStep> _batchNorms = [];
    private readonly Dictionary<string, string> _registryKeys = new(StringComparer.Ordinal);
    private readonly OnnxModel _model;
    private readonly HashSet<string> _folded = new(StringComparer.Ordinal);
    private long[]? _foldedFor;
    private readonly Dictionary<string, float[]> _masks = new(StringComparer.Ordinal);

    private OnnxModule(OnnxModel model, ComputeDevice device, Device placement) : base("OnnxModule")
    {
        var graph = model.Graph;
        var index = graph.BuildIndex();
        if (index.Problems.Count > 0 || index.TopologicalOrder is not { } order)
        {
            throw new TorchBackendException($"The graph is invalid: {string.Join(" ", index.Problems.Take(3))}");
        }
        var runtimeInputs = graph.RuntimeInputs.ToList();
        if (runtimeInputs.Count != 1)
        {
            throw new TorchBackendException($"The TorchSharp backend runs networks with exactly one image input; this graph has {runtimeInputs.Count} ({string.Join(", ", runtimeInputs.Select(i => i.Name))}).");
        }
        InputName = runtimeInputs[0].Name;
        OutputName = graph.Outputs.FirstOrDefault()?.Name ?? throw new TorchBackendException("The graph has no output.");
        Device = device;
        Placement = placement;
        _model = model;
        Opset = model.OpsetImports.Where(o => o.Domain is "" or "ai.onnx").Select(o => o.Version).DefaultIfEmpty(13).First();

        var folded = ShapeInference.Run(model).Constants;
        var trainable = TrainableInitializers(graph, order);
        var computed = new HashSet<string>(StringComparer.Ordinal) { InputName };
        foreach (var node in order)
        {
            if (IsIdentityOfWeight(graph, node))
            {
                // As in the engine: torch.onnx writes equal parameters as Identity nodes over one initializer; each
                // is its own parameter in PyTorch, so each gets its own trainable copy named after its output.
                AddParameter(node.Outputs[0], graph.Initializers[node.Inputs[0]]);
                _identityWeights.Add(node.Outputs[0]);
                continue;
            }
            if (node.Outputs.Where(o => o.Length > 0).All(folded.ContainsKey))
            {
                foreach (var output in node.Outputs.Where(o => o.Length > 0))
                {
                    Static[output] = folded[output];
                    _folded.Add(output);
                }
                continue;
            }
            foreach (var input in node.Inputs.Where(i => i.Length > 0 && !computed.Contains(i) && !_weights.ContainsKey(i) && !_constants.ContainsKey(i)))
            {
                if (graph.Initializers.TryGet(input, out var tensor))
                {
                    Static[input] = tensor;
                    if (trainable.Contains(input)) AddParameter(input, tensor);
                    else if (IsStatistic(node, input)) AddStatistic(input, tensor);
                    else AddConstant(input, tensor);
                }
                else if (folded.TryGetValue(input, out var constant))
                {
                    AddConstant(input, constant);
                }
            }
            _steps.Add(OnnxOperators.Create(this, node));
            computed.UnionWith(node.Outputs.Where(o => o.Length > 0));
        }
        if (!computed.Contains(OutputName)) throw new TorchBackendException($"Output '{OutputName}' is not computed by any node.");
        _batchNorms.AddRange(_steps.OfType<BatchNormStep>());
        // In the order the engine lists its parameters: by first use in graph order.
        ParameterNames = _steps.SelectMany(step => step.Node.Inputs).Where(_weights.ContainsKey).Distinct().ToList();
        if (placement.type != DeviceType.CPU) this.to(placement);
    }

    /// <summary>Imports <paramref name="model"/> (not modified; weights are copied) onto <paramref name="device"/> (default: CPU).</summary>
    /// <exception cref="TorchBackendException">An operator is not supported (the message names it), the graph is invalid, or the device is unavailable.</exception>
    public static OnnxModule Import(OnnxModel model, ComputeDevice device = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        // Loads the native library and fails early, in one line, on a missing CUDA device.
        return new OnnxModule(model, device, TorchDevices.Resolve(device));
    }

    /// <summary>The device the parameters and buffers live on.</summary>
    public ComputeDevice Device { get; }

    /// <summary><see cref="Device"/> as TorchSharp's device, resolved (and checked) once at import.</summary>
    internal Device Placement { get; }

    /// <summary>The image input's name.</summary>
    public string InputName { get; }

    /// <summary>The output <see cref="forward"/> returns (the graph's first output).</summary>
    public string OutputName { get; }

    /// <summary>The default-domain opset the model declares.</summary>
    internal long Opset { get; }

    /// <summary>Initializer names of the trainable parameters, in graph order.</summary>
    public IReadOnlyList<string> ParameterNames { get; }

    /// <summary>The parameter made from initializer <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No trainable initializer has that name.</exception>
    public Parameter Parameter(string name)
    {
        RefreshTensors();
        return _weights.TryGetValue(name, out var p) ? p : throw new KeyNotFoundException($"No trainable initializer named '{name}'.");
    }

    /// <summary>BatchNormalization running statistics (mean and variance buffers) by initializer name.</summary>
    public IReadOnlyDictionary<string, Tensor> RunningStatistics
    {
        get
        {
            RefreshTensors();
            return _statistics;
        }
    }

    /// <summary>Values folded at import (shapes, axes, constant operands), by name.</summary>
    internal Dictionary<string, OnnxTensor> Static { get; } = new(StringComparer.Ordinal);

    /// <summary>Names of the values the graph's steps compute (what <see cref="Run"/> can capture and <see cref="SetChannelMask"/> can mask).</summary>
    public IEnumerable<string> ComputedValues => _steps.SelectMany(s => s.Node.Outputs).Where(o => o.Length > 0);

    /// <summary>
    /// Forces channels (axis 1) of <paramref name="value"/> to zero wherever it is computed, in forward and (being a
    /// multiplication) in backward, as the engine's <c>Network.SetChannelMask</c>; null clears the mask.
    /// </summary>
    /// <exception cref="ArgumentException">The module computes no such value.</exception>
    public void SetChannelMask(string value, bool[]? keep)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (!_steps.Any(s => s.Node.Outputs.Contains(value))) throw new ArgumentException($"'{value}' is not a value the module computes.", nameof(value));
        if (keep is null) _masks.Remove(value);
        else _masks[value] = keep.Select(k => k ? 1f : 0f).ToArray();
    }

    /// <summary>Runs the graph and returns its first output.</summary>
    public override Tensor forward(Tensor input) => Run(input, [])[OutputName];

    /// <summary>
    /// Runs the graph and returns the output and every value named in <paramref name="captures"/> (e.g. the feature
    /// maps the clustering reads), by name. Tensors keep their autograd history in training mode.
    /// </summary>
    /// <exception cref="ArgumentException">A capture names no value the module computes.</exception>
    public IReadOnlyDictionary<string, Tensor> Run(Tensor input, IReadOnlyCollection<string> captures)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(captures);
        foreach (var name in captures)
        {
            if (name != InputName && !_steps.Any(s => s.Node.Outputs.Contains(name))) throw new ArgumentException($"'{name}' is not a value the module computes.", nameof(captures));
        }
        RefreshTensors();
        Refold(input.shape);
        var values = new Dictionary<string, Tensor>(StringComparer.Ordinal) { [InputName] = input };
        foreach (var step in _steps)
        {
            var inputs = step.Node.Inputs.Select(i => i.Length == 0 ? null : Value(values, i, input.device)).ToArray();
            var outputs = step.Run(inputs, training);
            for (var i = 0; i < outputs.Length && i < step.Node.Outputs.Count; i++)
            {
                if (step.Node.Outputs[i].Length > 0) values[step.Node.Outputs[i]] = Masked(step.Node.Outputs[i], outputs[i]);
            }
        }
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal) { [OutputName] = values[OutputName] };
        foreach (var name in captures) result[name] = values[name];
        return result;
    }

    private Tensor Masked(string name, Tensor value)
    {
        if (!_masks.TryGetValue(name, out var mask)) return value;
        if (value.dim() < 2 || value.shape[1] != mask.Length) throw new ArgumentException($"Value '{name}' has shape [{string.Join(",", value.shape)}]; its channel mask has {mask.Length} channels.");
        var shape = Enumerable.Repeat(1L, (int)value.dim()).ToArray();
        shape[1] = mask.Length;
        return value * TorchTensors.FromFloats(mask, shape, value.device);
    }

    /// <summary>
    /// Re-fits every BatchNormalization's running statistics to <paramref name="batches"/>, each batch counting
    /// equally (PyTorch's <c>momentum=None</c>, the engine's <c>RecalibrateBatchNorm</c>); no weight changes.
    /// </summary>
    public void RefitBatchNorm(IEnumerable<Tensor> batches)
    {
        ArgumentNullException.ThrowIfNull(batches);
        var wasTraining = training;
        train();
        foreach (var bn in _batchNorms) bn.BeginRefit();
        try
        {
            using var noGrad = no_grad();
            foreach (var batch in batches)
            {
                using var scope = NewDisposeScope();
                forward(batch.to(Placement));
                foreach (var bn in _batchNorms) bn.CountRefitBatch();
            }
        }
        finally
        {
            foreach (var bn in _batchNorms) bn.EndRefit();
            train(wasTraining);
        }
    }

    /// <summary>
    /// Copies the current weights and running statistics into <paramref name="model"/>'s initializers (by name) so the
    /// trained network can be saved as ONNX; an Identity-shared weight becomes an initializer of its own, as in the engine.
    /// </summary>
    /// <exception cref="ArgumentException">The model lacks an initializer this module was built from.</exception>
    public void WriteWeightsTo(OnnxModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        RefreshTensors();
        foreach (var (name, tensor) in _weights.Select(p => (p.Key, (Tensor)p.Value)).Concat(_statistics.Select(s => (s.Key, s.Value))))
        {
            if (_identityWeights.Contains(name))
            {
                var at = model.Graph.Nodes.FindIndex(n => n.OpType == "Identity" && n.Outputs.Count == 1 && n.Outputs[0] == name);
                if (at >= 0) model.Graph.Nodes.RemoveAt(at);
                else if (!model.Graph.Initializers.Contains(name)) throw new ArgumentException($"The model has no Identity node producing '{name}' nor an initializer of that name.", nameof(model));
            }
            else if (!model.Graph.Initializers.Contains(name))
            {
                throw new ArgumentException($"The model has no initializer '{name}'.", nameof(model));
            }
            model.Graph.Initializers.Set(OnnxTensor.FromFloats(name, tensor.shape, TorchTensors.ToFloats(tensor)));
        }
    }

    /// <summary>Constants are not registered with TorchSharp (see <see cref="AddConstant"/>), so they are freed here.</summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var constant in _constants.Values) constant.Dispose();
            _constants.Clear();
        }
        base.Dispose(disposing);
    }

    internal Tensor Weight(string name) =>
        _weights.TryGetValue(name, out var p) ? p : _statistics.TryGetValue(name, out var s) ? s : _constants[name];

    internal bool IsKnownTensor(string name) => _weights.ContainsKey(name) || _statistics.ContainsKey(name) || _constants.ContainsKey(name);

    /// <summary>
    /// Folded values may depend on the input's shape (a Shape → Gather chain reads the batch size), so they are
    /// folded again, by the same shape inference, whenever the input shape changes; as the engine does.
    /// </summary>
    private void Refold(long[] shape)
    {
        if (_folded.Count == 0 || (_foldedFor is not null && _foldedFor.AsSpan().SequenceEqual(shape))) return;
        var constants = ShapeInference.Run(_model, new Dictionary<string, long[]> { [InputName] = shape }).Constants;
        foreach (var name in _folded)
        {
            Static[name] = constants.TryGetValue(name, out var value)
                ? value
                : throw new TorchBackendException($"Value '{name}' cannot be computed for input [{string.Join(",", shape)}].");
            if (_constants.ContainsKey(name)) _constants[name] = TorchTensors.FromFloats(value.Floats, value.Dims);
        }
        _foldedFor = (long[])shape.Clone();
    }

    /// <summary>A computed value, a weight, or null for an integer operand the step reads at import (shapes, axes).</summary>
    private Tensor? Value(Dictionary<string, Tensor> values, string name, Device device)
    {
        if (values.TryGetValue(name, out var value)) return value;
        if (_weights.TryGetValue(name, out var parameter)) return parameter;
        if (_statistics.TryGetValue(name, out var statistic)) return statistic;
        if (!_constants.TryGetValue(name, out var constant)) return null;
        if (constant.device != device) _constants[name] = constant = constant.to(device);
        return constant;
    }

    private void AddParameter(string name, OnnxTensor tensor)
    {
        var data = TorchTensors.FromOnnx(tensor, name);
        var parameter = new Parameter(data, requires_grad: true);
        _weights[name] = parameter;
        register_parameter(Register(name, "p"), parameter);
    }

    private void AddStatistic(string name, OnnxTensor tensor)
    {
        var data = TorchTensors.FromOnnx(tensor, name);
        _statistics[name] = data;
        register_buffer(Register(name, "s"), data, persistent: true);
    }

    private void AddConstant(string name, OnnxTensor tensor)
    {
        if (!tensor.IsFloat) return; // integer operands (shapes, axes) are read at import, from Static or the initializer
        // Not registered with the module (TorchSharp's registry has no non-persistent buffers to enumerate): Run
        // moves a constant to the input's device the first time it meets it there.
        _constants[name] = TorchTensors.FromOnnx(tensor, name);
    }

    /// <summary>
    /// TorchSharp's registry keys must not contain dots (they separate submodules), so each tensor is registered as a
    /// prefix plus its position; the initializer names are the public names (<see cref="ParameterNames"/>).
    /// </summary>
    private string Register(string name, string kind)
    {
        var key = $"{kind}{_registryKeys.Count}_{new string(name.Select(c => char.IsLetterOrDigit(c) ? c : '_').ToArray())}";
        _registryKeys[name] = key;
        return key;
    }

    /// <summary>
    /// Moving the module (<c>to(device)</c>) may replace its tensors, so the name maps are re-read from TorchSharp's
    /// registry before use (a few hundred dictionary entries: nothing next to a forward pass).
    /// </summary>
    private void RefreshTensors()
    {
        var parameters = named_parameters().ToDictionary(p => p.name, p => p.parameter, StringComparer.Ordinal);
        var buffers = named_buffers().ToDictionary(b => b.name, b => b.buffer, StringComparer.Ordinal);
        foreach (var name in _weights.Keys.ToList()) _weights[name] = parameters[_registryKeys[name]];
        foreach (var name in _statistics.Keys.ToList()) _statistics[name] = buffers[_registryKeys[name]];
    }

    private static bool IsStatistic(Node node, string input) =>
        node.OpType == "BatchNormalization" && (node.InputAt(3) == input || node.InputAt(4) == input);

    /// <summary>The initializers Acp's engine trains (the same rule, so both backends train the same tensors).</summary>
    private static HashSet<string> TrainableInitializers(Graph graph, IEnumerable<Node> order)
    {
        var result = new HashSet<string>(StringComparer.Ordinal);
        foreach (var node in order)
        {
            IEnumerable<int> learnable = node.OpType switch
            {
                "Conv" or "BatchNormalization" => [1, 2],
                "Gemm" => Enumerable.Range(1, node.Inputs.Count - 1),
                "MatMul" => Enumerable.Range(0, node.Inputs.Count),
                "Add" or "Sub" or "Mul" or "Div" => Enumerable.Range(0, node.Inputs.Count)
                    .Where(i => graph.Initializers.TryGet(node.Inputs[i], out var t) && t.ElementCount > 1),
                _ => [],
            };
            foreach (var i in learnable)
            {
                if (node.InputAt(i) is { } name && graph.Initializers.TryGet(name, out var tensor) && tensor.IsFloat) result.Add(name);
            }
        }
        return result;
    }

    private static bool IsIdentityOfWeight(Graph graph, Node node) =>
        node is { IsStandard: true, OpType: "Identity", Inputs.Count: 1, Outputs.Count: 1 }
        && graph.Initializers.TryGet(node.Inputs[0], out var source) && source.IsFloat
        && !graph.Outputs.Any(o => o.Name == node.Outputs[0]);
}
