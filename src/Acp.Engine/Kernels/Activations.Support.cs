using System.Globalization;
using System.Runtime.CompilerServices;

namespace Acp.Engine.Kernels;

/// <summary>
/// Work splitting shared by the BatchNorm, Activations, Broadcast and Losses kernels. Every split depends only on the
/// problem size, never on the number of threads or on scheduling, so any reduction built on it stays bit-identical
/// from run to run.
/// </summary>
internal static class ElementwiseParallel
{
    /// <summary>
    /// Below this many elements of total work a <see cref="Parallel.For(int, int, Action{int})"/> costs more in
    /// scheduling than it saves, so the loop runs on the calling thread.
    /// </summary>
    internal const long MinParallelWork = 1 << 15;

    /// <summary>Size of the independent blocks a flat elementwise loop is cut into.</summary>
    internal const int Block = 1 << 14;

    /// <summary>Runs <paramref name="body"/> for 0 ≤ i &lt; <paramref name="count"/>, in parallel when the total work is large.</summary>
    /// <param name="count">Number of independent items (channels, images, rows).</param>
    /// <param name="workPerItem">Elements each item touches, to judge whether threads pay off.</param>
    /// <param name="body">The item loop body; items must not write to shared locations.</param>
    internal static void For(int count, long workPerItem, Action<int> body)
    {
        if (count <= 1 || Environment.ProcessorCount == 1 || (long)count * Math.Max(1, workPerItem) < MinParallelWork)
        {
            for (var i = 0; i < count; i++)
            {
                body(i);
            }

            return;
        }

        Parallel.For(0, count, body);
    }

    /// <summary>
    /// Runs <paramref name="body"/>(start, length) over consecutive blocks of [0, <paramref name="count"/>) of
    /// <see cref="Block"/> elements, in parallel when there are several blocks.
    /// </summary>
    internal static void ForBlocks(int count, Action<int, int> body)
    {
        if (count <= 2 * Block || Environment.ProcessorCount == 1)
        {
            if (count > 0)
            {
                body(0, count);
            }

            return;
        }

        var blocks = (count + Block - 1) / Block;
        Parallel.For(0, blocks, k =>
        {
            var start = k * Block;
            body(start, Math.Min(Block, count - start));
        });
    }
}

/// <summary>Argument checks with messages that carry the numbers, shared by the elementwise kernels.</summary>
internal static class ElementwiseArgs
{
    /// <summary>Throws unless <paramref name="value"/> ≥ 0.</summary>
    internal static void NonNegative(long value, [CallerArgumentExpression(nameof(value))] string name = "")
    {
        if (value < 0)
        {
            throw new ArgumentException($"{name} must not be negative; it is {value}.", name);
        }
    }

    /// <summary>Throws unless <paramref name="value"/> ≥ 1.</summary>
    internal static void Positive(long value, [CallerArgumentExpression(nameof(value))] string name = "")
    {
        if (value < 1)
        {
            throw new ArgumentException($"{name} must be at least 1; it is {value}.", name);
        }
    }

    /// <summary>
    /// Throws <see cref="ArgumentNullException"/> when <paramref name="buffer"/> is null and
    /// <see cref="ArgumentException"/> when it holds fewer than <paramref name="needed"/> elements.
    /// </summary>
    /// <param name="buffer">The buffer to check.</param>
    /// <param name="needed">Elements the kernel will touch.</param>
    /// <param name="what">How <paramref name="needed"/> was computed, such as "n·c·hw = 2·3·4".</param>
    /// <param name="name">The parameter name.</param>
    internal static void Length<T>(T[]? buffer, long needed, string what, [CallerArgumentExpression(nameof(buffer))] string name = "")
    {
        ArgumentNullException.ThrowIfNull(buffer, name);
        if (buffer.Length < needed)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"{name} holds {buffer.Length} elements but {what} = {needed} are needed."), name);
        }
    }

    /// <summary>Like <see cref="Length{T}"/> but accepts null (an output that is not wanted).</summary>
    internal static void OptionalLength<T>(T[]? buffer, long needed, string what, [CallerArgumentExpression(nameof(buffer))] string name = "")
    {
        if (buffer is not null)
        {
            Length(buffer, needed, what, name);
        }
    }
}

/// <summary>Small compositions of TensorPrimitives calls that the library lacks as single operations.</summary>
internal static class ElementwiseMath
{
    /// <summary>
    /// y = a·x + b with scalar a and b (TensorPrimitives.MultiplyAdd has no scalar-scalar overload): two roundings,
    /// like an unfused multiply-add. y may be x.
    /// </summary>
    internal static void Affine(ReadOnlySpan<float> x, float a, float b, Span<float> y)
    {
        System.Numerics.Tensors.TensorPrimitives.Multiply(x, a, y);
        System.Numerics.Tensors.TensorPrimitives.Add(y, b, y);
    }
}
