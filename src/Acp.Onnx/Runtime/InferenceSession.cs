using System.Runtime.InteropServices;
using Acp.Onnx.Ir;

namespace Acp.Onnx.Runtime;

/// <summary>
/// A model loaded into ONNX Runtime on the CPU, ready to run. <see cref="Run(IReadOnlyDictionary{string, OrtTensor})"/>
/// may be called from several threads at once. Disposing while runs are in progress is safe: the native
/// session is released when the last of them returns, and later calls throw <see cref="ObjectDisposedException"/>.
/// </summary>
public sealed unsafe class InferenceSession : IDisposable
{
    private readonly OrtSessionHandle session;
    private readonly Utf8NameTable inputNameTable;
    private readonly Utf8NameTable outputNameTable;
    private readonly Dictionary<string, int> inputIndex;
    private readonly Dictionary<string, int> outputIndex;
    private int disposed;

    private InferenceSession(OrtSessionHandle session)
    {
        this.session = session;
        var raw = session.DangerousGetHandle();
        InputMetadata = ReadMetadata(raw, OrtNative.SessionGetInputCount(raw), OrtNative.SessionGetInputName, OrtNative.SessionGetInputTypeInfo);
        OutputMetadata = ReadMetadata(raw, OrtNative.SessionGetOutputCount(raw), OrtNative.SessionGetOutputName, OrtNative.SessionGetOutputTypeInfo);
        inputIndex = IndexByName(InputMetadata);
        outputIndex = IndexByName(OutputMetadata);
        inputNameTable = new Utf8NameTable([.. InputMetadata.Select(m => m.Name)]);
        outputNameTable = new Utf8NameTable([.. OutputMetadata.Select(m => m.Name)]);
    }

    /// <summary>The model's inputs, in the model's order.</summary>
    public IReadOnlyList<NodeMetadata> InputMetadata { get; }

    /// <summary>The model's outputs, in the model's order.</summary>
    public IReadOnlyList<NodeMetadata> OutputMetadata { get; }

    /// <summary>
    /// Loads the model file at <paramref name="modelPath"/>. Throws <see cref="FileNotFoundException"/> when
    /// there is no such file and <see cref="OrtException"/> with the runtime's message when it refuses the model.
    /// </summary>
    public static InferenceSession FromFile(string modelPath, SessionConfig? config = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        var fullPath = Path.GetFullPath(modelPath);
        if (!File.Exists(fullPath))
        {
            throw new FileNotFoundException($"No ONNX model file at {fullPath}.", fullPath);
        }

        var env = OrtEnvironment.Env;
        using var options = (config ?? SessionConfig.Default).CreateOptions();
        return Create(OrtNative.CreateSession(env, fullPath, options));
    }

    /// <summary>
    /// Loads a model from its serialized bytes, which are not needed after this returns. Throws
    /// <see cref="OrtException"/> with the runtime's message when the runtime refuses the bytes.
    /// </summary>
    public static InferenceSession FromBytes(ReadOnlySpan<byte> model, SessionConfig? config = null)
    {
        if (model.IsEmpty)
        {
            throw new ArgumentException("The model bytes are empty.", nameof(model));
        }

        var env = OrtEnvironment.Env;
        using var options = (config ?? SessionConfig.Default).CreateOptions();
        return Create(OrtNative.CreateSessionFromArray(env, model, options));
    }

    /// <summary>Runs the model on <paramref name="inputs"/> and returns every output, in the model's order.</summary>
    /// <param name="inputs">One tensor per model input, keyed by input name.</param>
    /// <exception cref="ArgumentException">An input is unknown, missing, or of the wrong type or shape.</exception>
    /// <exception cref="OrtException">The runtime failed while running.</exception>
    public SessionOutputs Run(IReadOnlyDictionary<string, OrtTensor> inputs)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref disposed) != 0, this);
        return RunCore(inputs, [.. Enumerable.Range(0, OutputMetadata.Count)]);
    }

    /// <summary>Runs the model on <paramref name="inputs"/> and returns only the outputs named in <paramref name="outputNames"/>, in that order.</summary>
    /// <param name="inputs">One tensor per model input, keyed by input name.</param>
    /// <param name="outputNames">The outputs to compute; each must be a model output, at most once.</param>
    /// <exception cref="ArgumentException">An input is unknown, missing, or of the wrong type or shape, or an output name is unknown or repeated.</exception>
    /// <exception cref="OrtException">The runtime failed while running.</exception>
    public SessionOutputs Run(IReadOnlyDictionary<string, OrtTensor> inputs, IReadOnlyList<string> outputNames)
    {
        ArgumentNullException.ThrowIfNull(outputNames);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref disposed) != 0, this);
        if (outputNames.Count == 0)
        {
            throw new ArgumentException("At least one output must be requested.", nameof(outputNames));
        }

        var indices = new int[outputNames.Count];
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < outputNames.Count; i++)
        {
            var name = outputNames[i];
            if (name is null || !outputIndex.TryGetValue(name, out indices[i]))
            {
                throw new ArgumentException(
                    $"The model has no output named '{name}'. Its {OutputMetadata.Count} output(s): {NameList(OutputMetadata)}.", nameof(outputNames));
            }

            if (!seen.Add(name))
            {
                throw new ArgumentException($"Output '{name}' is requested more than once.", nameof(outputNames));
            }
        }

        return RunCore(inputs, indices);
    }

    /// <summary>Releases the native session. Runs still in progress finish first; later calls throw.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        session.Dispose();
        inputNameTable.Dispose();
        outputNameTable.Dispose();
    }

    private static InferenceSession Create(OrtSessionHandle handle)
    {
        try
        {
            return new InferenceSession(handle);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    private SessionOutputs RunCore(IReadOnlyDictionary<string, OrtTensor> inputs, int[] outputIndices)
    {
        var order = ValidateInputs(inputs);
        var values = new OrtValueHandle?[order.Length];
        var outputs = new IntPtr[outputIndices.Length];
        var outputHandles = new OrtValueHandle?[outputIndices.Length];
        bool sessionRef = false, inputNamesRef = false, outputNamesRef = false;
        try
        {
            // Held references keep a concurrent Dispose from freeing the session or the names mid-run.
            session.DangerousAddRef(ref sessionRef);
            inputNameTable.DangerousAddRef(ref inputNamesRef);
            outputNameTable.DangerousAddRef(ref outputNamesRef);

            var inputNamePointers = new IntPtr[order.Length];
            var inputPointers = new IntPtr[order.Length];
            for (var i = 0; i < order.Length; i++)
            {
                var (index, tensor) = order[i];
                values[i] = CreateInputValue(tensor);
                inputPointers[i] = values[i]!.DangerousGetHandle();
                inputNamePointers[i] = (IntPtr)inputNameTable.Pointers[index];
            }

            var outputNamePointers = new IntPtr[outputIndices.Length];
            for (var i = 0; i < outputIndices.Length; i++)
            {
                outputNamePointers[i] = (IntPtr)outputNameTable.Pointers[outputIndices[i]];
            }

            try
            {
                fixed (IntPtr* inNames = inputNamePointers, inValues = inputPointers, outNames = outputNamePointers, outValues = outputs)
                {
                    OrtNative.Run(session.DangerousGetHandle(), (byte**)inNames, inValues, order.Length, (byte**)outNames, outputIndices.Length, outValues);
                }
            }
            finally
            {
                // Whatever the runtime produced is ours to release, even if it then reported a failure.
                for (var i = 0; i < outputs.Length; i++)
                {
                    if (outputs[i] != IntPtr.Zero)
                    {
                        outputHandles[i] = new OrtValueHandle(outputs[i]);
                    }
                }
            }

            var result = new NamedTensor[outputIndices.Length];
            for (var i = 0; i < outputIndices.Length; i++)
            {
                var name = OutputMetadata[outputIndices[i]].Name;
                var handle = outputHandles[i] ?? throw new OrtException(OrtErrorCode.Fail, $"The runtime returned no value for output '{name}'.");
                result[i] = new NamedTensor(name, CopyOutput(name, handle));
            }

            return new SessionOutputs(result);
        }
        finally
        {
            foreach (var handle in outputHandles)
            {
                handle?.Dispose();
            }

            // Releasing an input value also unpins its managed buffer.
            foreach (var value in values)
            {
                value?.Dispose();
            }

            if (outputNamesRef)
            {
                outputNameTable.DangerousRelease();
            }

            if (inputNamesRef)
            {
                inputNameTable.DangerousRelease();
            }

            if (sessionRef)
            {
                session.DangerousRelease();
            }
        }
    }

    /// <summary>Checks the inputs against the model before anything crosses into native code, and orders them.</summary>
    private (int Index, OrtTensor Tensor)[] ValidateInputs(IReadOnlyDictionary<string, OrtTensor> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var order = new List<(int, OrtTensor)>(inputs.Count);
        foreach (var (name, tensor) in inputs)
        {
            if (!inputIndex.TryGetValue(name, out var index))
            {
                throw new ArgumentException(
                    $"The model has no input named '{name}'. Its {InputMetadata.Count} input(s): {NameList(InputMetadata)}.", nameof(inputs));
            }

            if (tensor is null)
            {
                throw new ArgumentException($"Input '{name}' has no tensor.", nameof(inputs));
            }

            var meta = InputMetadata[index];
            if (meta.IsTensor && meta.ElementType != tensor.ElementType)
            {
                throw new ArgumentException(
                    $"Input '{name}' takes {ElementTypes.Name(meta.ElementType)} elements but the tensor holds {ElementTypes.Name(tensor.ElementType)}.", nameof(inputs));
            }

            if (meta.IsTensor)
            {
                CheckShape(meta, tensor);
            }

            order.Add((index, tensor));
        }

        if (order.Count < InputMetadata.Count)
        {
            var missing = InputMetadata.Where(m => !inputs.ContainsKey(m.Name)).Select(m => $"'{m.Name}'");
            throw new ArgumentException(
                $"Missing input(s) {string.Join(", ", missing)}: the model takes {InputMetadata.Count} input(s) ({NameList(InputMetadata)}) and {inputs.Count} were given.", nameof(inputs));
        }

        return [.. order];
    }

    private static void CheckShape(NodeMetadata meta, OrtTensor tensor)
    {
        // The C API reports an undeclared shape as rank 0, the same as a scalar, so rank 0 is left to
        // the runtime to check rather than rejecting every tensor fed to an unshaped input.
        var declared = meta.Dimensions;
        if (declared.Count == 0)
        {
            return;
        }

        if (declared.Count != tensor.Shape.Count)
        {
            throw new ArgumentException(
                $"Input '{meta.Name}' has rank {declared.Count} {meta.ShapeText} but the tensor has rank {tensor.Shape.Count} {tensor.ShapeText}.", "inputs");
        }

        for (var d = 0; d < declared.Count; d++)
        {
            if (declared[d] >= 0 && declared[d] != tensor.Shape[d])
            {
                throw new ArgumentException(
                    $"Input '{meta.Name}' needs size {declared[d]} in dimension {d} {meta.ShapeText} but the tensor has {tensor.Shape[d]} {tensor.ShapeText}.", "inputs");
            }
        }
    }

    private static OrtValueHandle CreateInputValue(OrtTensor tensor)
    {
        // The runtime reads the caller's buffer in place; the value keeps it pinned until released.
        return tensor.ElementType switch
        {
            ElementType.Float => OrtNative.CreateTensorWithData(
                OrtEnvironment.CpuMemory, MemoryMarshal.AsMemory(tensor.FloatData).Pin(), tensor.ElementCount * sizeof(float), tensor.ShapeSpan, ElementType.Float),
            ElementType.Int64 => OrtNative.CreateTensorWithData(
                OrtEnvironment.CpuMemory, MemoryMarshal.AsMemory(tensor.Int64Data).Pin(), tensor.ElementCount * sizeof(long), tensor.ShapeSpan, ElementType.Int64),
            _ => throw new NotSupportedException($"Tensors of {ElementTypes.Name(tensor.ElementType)} cannot be passed to the runtime."),
        };
    }

    private static OrtTensor CopyOutput(string name, OrtValueHandle value)
    {
        var kind = OrtNative.GetValueType(value);
        if (kind != OrtNative.OnnxTypeTensor)
        {
            throw new NotSupportedException($"Output '{name}' is not a tensor (ONNXType {kind}); only tensor outputs can be read.");
        }

        long[] shape;
        ElementType type;
        using (var info = OrtNative.GetTensorTypeAndShape(value))
        {
            var raw = info.DangerousGetHandle();
            type = OrtNative.GetTensorElementType(raw);
            shape = OrtNative.GetDimensions(raw);
        }

        long count = 1;
        foreach (var d in shape)
        {
            count = checked(count * d);
        }

        if (count > Array.MaxLength)
        {
            throw new NotSupportedException($"Output '{name}' has {count} elements, more than a .NET array can hold.");
        }

        // Empty tensors may have no storage at all, so the data pointer is only read when there is something to copy.
        switch (type)
        {
            case ElementType.Float:
            {
                var data = new float[count];
                if (count > 0)
                {
                    new ReadOnlySpan<float>(OrtNative.GetTensorData(value), data.Length).CopyTo(data);
                }

                return OrtTensor.FromFloat(data, shape);
            }

            case ElementType.Int64:
            {
                var data = new long[count];
                if (count > 0)
                {
                    new ReadOnlySpan<long>(OrtNative.GetTensorData(value), data.Length).CopyTo(data);
                }

                return OrtTensor.FromInt64(data, shape);
            }

            default:
                throw new NotSupportedException($"Output '{name}' has {ElementTypes.Name(type)} elements; only float and int64 outputs can be read.");
        }
    }

    private static NodeMetadata[] ReadMetadata(
        IntPtr session, int count, Func<IntPtr, int, string> getName, Func<IntPtr, int, OrtTypeInfoHandle> getTypeInfo)
    {
        var result = new NodeMetadata[count];
        for (var i = 0; i < count; i++)
        {
            var name = getName(session, i);
            using var typeInfo = getTypeInfo(session, i);
            if (OrtNative.GetOnnxType(typeInfo) != OrtNative.OnnxTypeTensor)
            {
                result[i] = new NodeMetadata(name, isTensor: false, ElementType.Undefined, [], []);
                continue;
            }

            // The tensor view belongs to typeInfo, which the using above keeps alive while it is read.
            var tensorInfo = OrtNative.CastTypeInfoToTensorInfo(typeInfo);
            var dims = OrtNative.GetDimensions(tensorInfo);
            result[i] = new NodeMetadata(
                name, isTensor: true, OrtNative.GetTensorElementType(tensorInfo), dims, OrtNative.GetSymbolicDimensions(tensorInfo, dims.Length));
        }

        return result;
    }

    private static Dictionary<string, int> IndexByName(IReadOnlyList<NodeMetadata> nodes)
    {
        var index = new Dictionary<string, int>(nodes.Count, StringComparer.Ordinal);
        for (var i = 0; i < nodes.Count; i++)
        {
            index[nodes[i].Name] = i;
        }

        return index;
    }

    private static string NameList(IReadOnlyList<NodeMetadata> nodes) =>
        nodes.Count == 0 ? "none" : string.Join(", ", nodes.Select(n => $"'{n.Name}'"));
}
