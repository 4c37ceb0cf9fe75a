using Acp.Engine.Kernels;
using Acp.Onnx.Ir;

namespace Acp.Engine.Execution.Layers;

/// <summary>
/// ONNX BatchNormalization in inference form (inputs X, scale, B, mean, var). In training it normalises with batch
/// statistics and updates the running mean and variance in place, which is what makes fine-tuning and BN
/// recalibration of a pruned network work on the same graph.
/// </summary>
internal sealed class BatchNormLayer(Node node, ValueSlot?[] inputs, ValueSlot[] outputs) : Layer(node, inputs, outputs)
{
    private int _n, _c, _hw;
    private float[] _savedMean = [];
    private float[] _savedInvStd = [];
    private bool _forwardWasTraining;
    private int _recalibrationBatches;

    // The kernel computes dx, dscale and dbias together; the ones nobody needs land in these.
    private float[]? _dxScratch, _dscaleScratch, _dbiasScratch;

    public override long BufferBytes => sizeof(float) * (long)(_dxScratch?.Length ?? 0);

    public override void ReleaseBuffers() => _dxScratch = null;

    public override IEnumerable<int> LearnableInputs => [1, 2];

    private float Epsilon => Node.GetFloat("epsilon", 1e-5f);

    /// <summary>ONNX momentum: running = momentum · running + (1 − momentum) · batch. PyTorch's 0.1 is ONNX's 0.9.</summary>
    private float Momentum => Node.GetFloat("momentum", 0.9f);

    /// <summary>When set, training-mode forwards average the running statistics over all batches seen equally.</summary>
    public bool Recalibrating
    {
        get;
        set
        {
            field = value;
            _recalibrationBatches = 0;
        }
    }

    public override void Plan()
    {
        var shape = Input(0).Shape;
        if (shape.Length < 2) throw Error($"input must have a channel axis; it is [{string.Join(",", shape)}]");
        _n = shape[0];
        _c = shape[1];
        _hw = Input(0).Length / Math.Max(1, _n * _c);
        for (var i = 1; i <= 4; i++)
        {
            if (Input(i).Length != _c) throw Error($"input {i} ('{Input(i).Name}') has {Input(i).Length} elements for {_c} channels");
        }
        if (_savedMean.Length != _c)
        {
            _savedMean = new float[_c];
            _savedInvStd = new float[_c];
        }
    }

    /// <summary>ε as the node defines it (ONNX default 1e-5).</summary>
    public float Eps => Epsilon;

    /// <summary>
    /// Records that an inference forward ran this node folded into its convolution, so that a backward pass still
    /// refuses to run on inference statistics.
    /// </summary>
    public void MarkFoldedInference() => _forwardWasTraining = false;

    public override void Forward(bool training)
    {
        _forwardWasTraining = training;
        if (!training)
        {
            BatchNorm.Inference(_n, _c, _hw, Input(0).Data, Input(1).Data, Input(2).Data, Input(3).Data, Input(4).Data, Epsilon, Outputs[0].Data);
            return;
        }
        TrainingForward(Outputs[0].Data, relu: false);
    }

    /// <summary>
    /// Training forward of this node and the Relu that is its output's only consumer, in one pass: writes
    /// max(0, BN(x)) into <paramref name="reluOutput"/> and leaves this node's own output unwritten. The backward
    /// pass must then go through <see cref="BackwardThroughRelu"/> (see <see cref="BatchNormReluLayer"/>).
    /// </summary>
    public void ForwardWithRelu(ValueSlot reluOutput)
    {
        _forwardWasTraining = true;
        TrainingForward(reluOutput.Data, relu: true);
    }

    /// <summary>Backward of the fused BatchNormalization → Relu: the Relu's gradient is gated by its output as it is read.</summary>
    public void BackwardThroughRelu(ValueSlot reluOutput) => Backward(reluOutput.ReadGradient(), reluOutput.Data);

    private void TrainingForward(float[] y, bool relu)
    {
        BatchNorm.TrainingForward(_n, _c, _hw, Input(0).Data, Input(1).Data, Input(2).Data, Epsilon, _savedMean, _savedInvStd, y, relu);
        var momentum = Recalibrating ? _recalibrationBatches / (_recalibrationBatches + 1f) : Momentum;
        BatchNorm.UpdateRunningStatistics(_n * _hw, _savedMean, _savedInvStd, Epsilon, momentum, Input(3).Data, Input(4).Data);
        if (Recalibrating) _recalibrationBatches++;
    }

    public override void Backward()
    {
        if (!_forwardWasTraining)
        {
            throw Error("backward needs a training-mode forward (batch statistics); set the network to training first");
        }
        Backward(Outputs[0].ReadGradient(), reluOutput: null);
    }

    private void Backward(float[] dy, float[]? reluOutput)
    {
        var dx = BeginInputGradient(0) ?? (_dxScratch ??= new float[Input(0).Length]);
        if (dx.Length != Input(0).Length) dx = _dxScratch = new float[Input(0).Length];
        var dscale = BeginInputGradient(1) ?? (_dscaleScratch ??= new float[_c]);
        var dbias = BeginInputGradient(2) ?? (_dbiasScratch ??= new float[_c]);
        BatchNorm.Backward(_n, _c, _hw, Input(0).Data, dy, Input(1).Data, _savedMean, _savedInvStd, dx, dscale, dbias, reluOutput);
        if (Input(0).RequiresGradient) EndInputGradient(0);
        if (Input(1).RequiresGradient) EndInputGradient(1);
        if (Input(2).RequiresGradient) EndInputGradient(2);
    }
}
