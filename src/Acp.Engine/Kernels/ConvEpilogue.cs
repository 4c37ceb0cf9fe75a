using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Acp.Engine.Kernels;

/// <summary>
/// What a convolution does to its outputs after the bias, while they are still in cache: y = act(conv + bias +
/// residual). This is how an inference pass runs Conv → BatchNormalization (folded into the weights) → Add → Relu as
/// one sweep over the output instead of four.
/// </summary>
/// <param name="Residual">A tensor shaped like the output added element by element, or null.</param>
/// <param name="Relu">Whether to clamp the result at zero (after the residual).</param>
internal readonly record struct ConvEpilogue(float[]? Residual, bool Relu)
{
    /// <summary>The identity epilogue: the output is conv + bias.</summary>
    public static ConvEpilogue None => default;

    /// <summary>Whether there is anything to do after the bias.</summary>
    public bool IsNone => Residual is null && !Relu;

    /// <summary>y[i] = act(y[i] + residual[i]) for the n floats at offset (a pass for kernels without a fused store).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public unsafe void Apply(float* y, long offset, int n)
    {
        var i = 0;
        var zero = Vector512<float>.Zero;
        fixed (float* pr = Residual)
        {
            var dst = y + offset;
            var res = pr is null ? null : pr + offset;
            if (Vector512.IsHardwareAccelerated)
            {
                for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
                {
                    var v = Vector512.Load(dst + i);
                    if (res is not null) v += Vector512.Load(res + i);
                    if (Relu) v = Vector512.Max(v, zero);
                    v.Store(dst + i);
                }
            }
            for (; i < n; i++)
            {
                var v = dst[i];
                if (res is not null) v += res[i];
                if (Relu) v = MathF.Max(v, 0f);
                dst[i] = v;
            }
        }
    }

    /// <summary>Applies the epilogue to a whole NCHW output (planes in parallel) after a kernel that stores plain outputs.</summary>
    public unsafe void ApplyToOutput(float[] y, int batch, int channels, int plane)
    {
        if (IsNone) return;
        if (Residual is not null && Residual.Length < (long)batch * channels * plane)
        {
            throw new ArgumentException($"The residual has {Residual.Length} elements; the output has {(long)batch * channels * plane}.", nameof(Residual));
        }
        var epilogue = this;
        ConvSimd.For(batch * channels, 0, plane, (item, _) =>
        {
            fixed (float* py = y) epilogue.Apply(py, (long)item * plane, plane);
        });
    }
}
