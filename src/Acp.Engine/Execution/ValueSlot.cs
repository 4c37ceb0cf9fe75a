using System.Numerics.Tensors;
using Acp.Onnx.Ir;

namespace Acp.Engine.Execution;

/// <summary>
/// One named value of the network at run time: its shape for the current plan, its data and, when it takes part in
/// backpropagation, its gradient. Buffers are kept across steps and reallocated only when the shape changes.
/// </summary>
internal sealed class ValueSlot(string name)
{
    private bool _gradientWritten;
    private bool _scratchPending;
    private float[]? _scratch;

    public string Name { get; } = name;

    public int[] Shape { get; private set; } = [];

    public float[] Data { get; private set; } = [];

    public float[] Gradient { get; private set; } = [];

    /// <summary>Compile-time contents (initializers, Constant nodes, folded shape computations), when known.</summary>
    public OnnxTensor? Constant { get; set; }

    /// <summary>True for initializers and running statistics: their data lives across plans.</summary>
    public bool IsPersistent { get; init; }

    /// <summary>True when the loss depends on this value through a trainable parameter, so backward must reach it.</summary>
    public bool RequiresGradient { get; set; }

    /// <summary>Channels (axis 1) forced to zero in forward and in the gradient, or null.</summary>
    public bool[]? ChannelMask { get; set; }

    public List<Action<Tensors.Tensor>> Observers { get; } = [];

    public int Length => Data.Length;

    /// <summary>
    /// Sets the shape, reusing the data buffer when the element count is unchanged. The gradient buffer is not
    /// allocated here but by <see cref="EnsureGradientBuffer"/> when a backward pass first needs it: a network that only
    /// runs inference (a scored candidate, the teacher) never holds one, which halves its memory.
    /// </summary>
    public void Resize(int[] shape)
    {
        var length = Tensors.Tensor.ElementCount(shape);
        Shape = shape;
        if (Data.Length != length)
        {
            if (IsPersistent) throw new InvalidOperationException($"Value '{Name}' is persistent and cannot change size.");
            Data = new float[length];
            Gradient = [];
            _scratch = null;
        }
    }

    /// <summary>
    /// Drops the buffers a pass computes into (data, gradient, scratch) so that the memory is free for the next network
    /// at once; persistent data (weights, running statistics) stays. The next plan allocates them again.
    /// </summary>
    public void ReleaseBuffers()
    {
        if (IsPersistent) return;
        Data = [];
        Gradient = [];
        _scratch = null;
        Shape = [];
    }

    /// <summary>Bytes held by the buffers <see cref="ReleaseBuffers"/> drops (0 for persistent values).</summary>
    public long BufferBytes => IsPersistent ? 0 : sizeof(float) * ((long)Data.Length + Gradient.Length + (_scratch?.Length ?? 0));

    /// <summary>Installs persistent data (initializer values).</summary>
    public void SetPersistentData(int[] shape, float[] data)
    {
        Shape = shape;
        Data = data;
        Gradient = RequiresGradient ? new float[data.Length] : [];
    }

    /// <summary>Installs the data of a folded constant (a Constant node's float tensor) for layers that read it.</summary>
    public void SetConstantData(int[] shape, float[] data)
    {
        Shape = shape;
        Data = data;
    }

    public void EnsureGradientBuffer()
    {
        if (RequiresGradient && Gradient.Length != Data.Length) Gradient = new float[Data.Length];
    }

    public Tensors.Tensor AsTensor() => new(Shape, Data);

    public void BeginBackward()
    {
        _gradientWritten = false;
        _scratchPending = false;
    }

    /// <summary>True once some consumer has written this value's gradient in the current backward pass.</summary>
    public bool HasGradient => _gradientWritten;

    /// <summary>
    /// The buffer a consumer writes its contribution to this value's gradient into (kernels overwrite). The first
    /// contribution goes straight into the gradient; later ones go to a scratch buffer that
    /// <see cref="EndGradient"/> adds in, so a value with one consumer costs no extra pass.
    /// </summary>
    public float[] BeginGradient()
    {
        if (!_gradientWritten)
        {
            _scratchPending = false;
            return Gradient;
        }
        _scratchPending = true;
        return _scratch ??= new float[Gradient.Length];
    }

    public void EndGradient()
    {
        if (_scratchPending) TensorPrimitives.Add(Gradient, _scratch!, Gradient);
        _scratchPending = false;
        _gradientWritten = true;
    }

    /// <summary>The gradient for a producer to read: zeros when no consumer contributed (an unused output).</summary>
    public float[] ReadGradient()
    {
        if (!_gradientWritten)
        {
            Array.Clear(Gradient);
            _gradientWritten = true;
        }
        return Gradient;
    }

    /// <summary>Zeroes the masked channels of a buffer shaped like this value.</summary>
    public void ApplyMask(float[] buffer)
    {
        if (ChannelMask is not { } mask) return;
        var batch = Shape[0];
        var channels = Shape[1];
        var plane = Length / Math.Max(1, batch * channels);
        for (var n = 0; n < batch; n++)
        {
            for (var c = 0; c < channels; c++)
            {
                if (!mask[c]) Array.Clear(buffer, (n * channels + c) * plane, plane);
            }
        }
    }
}
