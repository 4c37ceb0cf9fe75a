using Acp.Onnx.Channels;

namespace Acp.Pruning;

/// <summary>Per-channel norms of the filters that produce a group's channels.</summary>
public static class FilterNorms
{
    /// <summary>
    /// For every channel of <paramref name="group"/>, the sum of |w| over the weights that produce it: the output
    /// slice of every producer's weight (a Conv filter, a Gemm row or column, a MatMul column), summed over all
    /// producers of the group. Biases are not included.
    /// </summary>
    public static double[] L1(ChannelAnalysis analysis, ChannelGroup group)
    {
        ArgumentNullException.ThrowIfNull(analysis);
        ArgumentNullException.ThrowIfNull(group);
        var norms = new double[group.Width];
        foreach (var producer in group.Producers)
        {
            var member = group.MemberOf(producer.Output)!;
            // The producer's weight is its input 1; the binding to its own output names the output axis.
            var binding = analysis.Bindings.First(b => b.Node == producer.Node && b.InputIndex == 1 && b.Value == producer.Output);
            var weight = analysis.BoundConstant(binding);
            var perChannel = SumAbs(weight.Floats, weight.Dims, binding.Axis);
            for (var c = 0; c < perChannel.Length; c++)
            {
                var index = member.GroupIndexOf(c);
                if (index >= 0) norms[index] += perChannel[c];
            }
        }
        return norms;
    }

    /// <summary>Σ|x| over every position of each index of axis <paramref name="axis"/>.</summary>
    private static double[] SumAbs(float[] data, long[] dims, int axis)
    {
        var inner = 1L;
        for (var i = axis + 1; i < dims.Length; i++) inner *= dims[i];
        var size = dims[axis];
        var sums = new double[size];
        for (var i = 0L; i < data.LongLength; i++) sums[i / inner % size] += Math.Abs(data[i]);
        return sums;
    }
}
