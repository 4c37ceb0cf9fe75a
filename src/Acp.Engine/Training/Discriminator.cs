namespace Acp.Engine.Training;

/// <summary>
/// A shallow fully-connected discriminator for adversarial knowledge transfer: D(x) = w₂·relu(W₁·x + b₁) + b₂ maps a
/// network output x (k logits) to one logit, "this came from the teacher". It is trained by plain momentum SGD on
/// binary cross-entropy (teacher outputs labelled 1, student outputs 0) and gives the student the non-saturating
/// generator loss mean softplus(−D(s)) with its gradient. Sums run in double in a fixed order, so every result is
/// deterministic.
/// </summary>
/// <remarks>
/// AIP (Chang et al., arXiv 2108.13591) names "a shallow fully-connected network" as discriminator and nothing more; one
/// hidden ReLU layer, the non-saturating loss and SGD are reconstructions. Weights start as PyTorch's <c>nn.Linear</c>
/// does (uniform in ±1/√fan-in), drawn from a SplitMix64 generator seeded by the caller.
/// </remarks>
public sealed class Discriminator
{
    private readonly int _inputs;
    private readonly int _hidden;
    private readonly float _momentum;
    private readonly float[][] _parameters;
    private readonly float[][] _velocity;
    private readonly double[][] _gradients;

    /// <summary>A discriminator over <paramref name="inputs"/> values with <paramref name="hidden"/> hidden units.</summary>
    /// <param name="inputs">Values per sample (the number of classes).</param>
    /// <param name="hidden">Hidden ReLU units.</param>
    /// <param name="seed">Seeds the initial weights.</param>
    /// <param name="momentum">Momentum of its SGD.</param>
    public Discriminator(int inputs, int hidden, int seed, float momentum = 0.9f)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inputs, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(hidden, 1);
        _inputs = inputs;
        _hidden = hidden;
        _momentum = momentum;
        var state = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL + 0xD15C0UL);
        float Uniform(double bound) => (float)((2 * (Next(ref state) >> 11) * (1.0 / (1UL << 53)) - 1) * bound);
        var w1 = new float[hidden * inputs];
        var b1 = new float[hidden];
        var w2 = new float[hidden];
        var b2 = new float[1];
        for (var i = 0; i < w1.Length; i++) w1[i] = Uniform(1 / Math.Sqrt(inputs));
        for (var i = 0; i < b1.Length; i++) b1[i] = Uniform(1 / Math.Sqrt(inputs));
        for (var i = 0; i < w2.Length; i++) w2[i] = Uniform(1 / Math.Sqrt(hidden));
        b2[0] = Uniform(1 / Math.Sqrt(hidden));
        _parameters = [w1, b1, w2, b2];
        _velocity = _parameters.Select(p => new float[p.Length]).ToArray();
        _gradients = _parameters.Select(p => new double[p.Length]).ToArray();
    }

    /// <summary>Values per sample.</summary>
    public int Inputs => _inputs;

    /// <summary>Hidden units.</summary>
    public int Hidden => _hidden;

    /// <summary>D's logit for each of the <paramref name="n"/> samples of <paramref name="x"/> (n × <see cref="Inputs"/>).</summary>
    public double[] Score(int n, ReadOnlySpan<float> x)
    {
        CheckLength(n, x.Length);
        var d = new double[n];
        var z = new double[_hidden];
        for (var i = 0; i < n; i++) d[i] = Forward(x.Slice(i * _inputs, _inputs), z);
        return d;
    }

    /// <summary>
    /// The student's adversarial loss mean_i softplus(−D(s_i)) (small when D takes the student's outputs for the
    /// teacher's) and, in <paramref name="dstudent"/> (n × inputs, overwritten), its gradient with respect to the
    /// student's outputs. D does not change.
    /// </summary>
    public double GeneratorLoss(int n, ReadOnlySpan<float> student, Span<float> dstudent)
    {
        CheckLength(n, student.Length);
        CheckLength(n, dstudent.Length);
        var z = new double[_hidden];
        var loss = 0.0;
        var w1 = _parameters[0];
        var w2 = _parameters[2];
        for (var i = 0; i < n; i++)
        {
            var x = student.Slice(i * _inputs, _inputs);
            var d = Forward(x, z);
            loss += Softplus(-d);
            var g = -Sigmoid(-d) / n;
            var dx = dstudent.Slice(i * _inputs, _inputs);
            dx.Clear();
            var row = new double[_inputs];
            for (var j = 0; j < _hidden; j++)
            {
                if (z[j] <= 0) continue;
                var dz = g * w2[j];
                for (var c = 0; c < _inputs; c++) row[c] += dz * w1[j * _inputs + c];
            }
            for (var c = 0; c < _inputs; c++) dx[c] = (float)row[c];
        }
        return loss / n;
    }

    /// <summary>
    /// One SGD step of D on binary cross-entropy: mean softplus(−D(t)) + mean softplus(D(s)), teacher outputs labelled
    /// real. Returns that loss before the step.
    /// </summary>
    public double TrainStep(int n, ReadOnlySpan<float> teacher, ReadOnlySpan<float> student, float rate)
    {
        CheckLength(n, teacher.Length);
        CheckLength(n, student.Length);
        foreach (var g in _gradients) Array.Clear(g);
        var z = new double[_hidden];
        var loss = 0.0;
        for (var i = 0; i < n; i++)
        {
            var t = Forward(teacher.Slice(i * _inputs, _inputs), z);
            loss += Softplus(-t);
            Accumulate(teacher.Slice(i * _inputs, _inputs), z, -Sigmoid(-t) / n);
            var s = Forward(student.Slice(i * _inputs, _inputs), z);
            loss += Softplus(s);
            Accumulate(student.Slice(i * _inputs, _inputs), z, Sigmoid(s) / n);
        }
        for (var p = 0; p < _parameters.Length; p++)
        {
            var w = _parameters[p];
            var v = _velocity[p];
            var g = _gradients[p];
            for (var k = 0; k < w.Length; k++)
            {
                v[k] = _momentum * v[k] + (float)g[k];
                w[k] -= rate * v[k];
            }
        }
        return loss / n;
    }

    /// <summary>The weights and momentum buffers, for a checkpoint.</summary>
    public byte[] ExportState()
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream))
        {
            writer.Write(_inputs);
            writer.Write(_hidden);
            foreach (var buffer in _parameters.Concat(_velocity))
            {
                writer.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(buffer.AsSpan()));
            }
        }
        return stream.ToArray();
    }

    /// <summary>Restores what <see cref="ExportState"/> gave.</summary>
    /// <exception cref="ArgumentException">The state belongs to a discriminator of another size, or is malformed.</exception>
    public void ImportState(byte[] state)
    {
        ArgumentNullException.ThrowIfNull(state);
        using var reader = new BinaryReader(new MemoryStream(state));
        try
        {
            if (reader.ReadInt32() != _inputs || reader.ReadInt32() != _hidden) throw new ArgumentException("The discriminator state has other dimensions.", nameof(state));
            foreach (var buffer in _parameters.Concat(_velocity))
            {
                var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(buffer.AsSpan());
                if (reader.Read(bytes) != bytes.Length) throw new ArgumentException("The discriminator state is truncated.", nameof(state));
            }
            if (reader.BaseStream.Position != state.Length) throw new ArgumentException("The discriminator state has trailing bytes.", nameof(state));
        }
        catch (EndOfStreamException)
        {
            throw new ArgumentException("The discriminator state is truncated.", nameof(state));
        }
    }

    /// <summary>D(x), leaving the hidden pre-activations in <paramref name="z"/>.</summary>
    private double Forward(ReadOnlySpan<float> x, double[] z)
    {
        var (w1, b1, w2, b2) = (_parameters[0], _parameters[1], _parameters[2], _parameters[3]);
        var d = (double)b2[0];
        for (var j = 0; j < _hidden; j++)
        {
            var sum = (double)b1[j];
            for (var c = 0; c < _inputs; c++) sum += (double)w1[j * _inputs + c] * x[c];
            z[j] = sum;
            if (sum > 0) d += w2[j] * sum;
        }
        return d;
    }

    /// <summary>Adds ∂L/∂θ for one sample whose ∂L/∂D is <paramref name="g"/>.</summary>
    private void Accumulate(ReadOnlySpan<float> x, double[] z, double g)
    {
        var (dw1, db1, dw2, db2) = (_gradients[0], _gradients[1], _gradients[2], _gradients[3]);
        var w2 = _parameters[2];
        db2[0] += g;
        for (var j = 0; j < _hidden; j++)
        {
            if (z[j] <= 0) continue;
            dw2[j] += g * z[j];
            var dz = g * w2[j];
            db1[j] += dz;
            for (var c = 0; c < _inputs; c++) dw1[j * _inputs + c] += dz * x[c];
        }
    }

    private void CheckLength(int n, int length)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        if (length != (long)n * _inputs) throw new ArgumentException($"{length} values for {n} samples of {_inputs}.");
    }

    private static double Softplus(double x) => Math.Max(x, 0) + Math.Log(1 + Math.Exp(-Math.Abs(x)));

    private static double Sigmoid(double x) => x >= 0 ? 1 / (1 + Math.Exp(-x)) : Math.Exp(x) / (1 + Math.Exp(x));

    private static ulong Next(ref ulong state)
    {
        var z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
