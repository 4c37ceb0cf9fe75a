using Acp.Engine.Backends;
using Acp.Onnx.Ir;
using Acp.Pruning.Pipeline;
using Acp.Pruning.Search;
using Xunit.Abstractions;

namespace Acp.Pruning.Tests.Pipeline;

/// <summary>
/// Issue 19: a run's memory does not grow with the number of candidates it scores. Every network the run builds is
/// recorded, and whenever it builds the next one, the buffers the earlier ones still hold are added up: a scored
/// candidate must have handed its buffers back (disposed), and the original network must not sit on the buffers of
/// its last stage. Counting buffers rather than sampling the process makes the test independent of when the garbage
/// collector runs.
/// </summary>
public sealed class MemoryBoundTests(ITestOutputHelper output)
{
    [Fact]
    public void The_buffers_held_while_scoring_do_not_grow_with_the_number_of_candidates()
    {
        var few = Run(cycles: 0);
        var many = Run(cycles: 3);
        output.WriteLine($"{few.Candidates} candidates: at most {few.MaxHeld / 1e6:0.00} MB held by earlier networks at a build, {few.Networks} networks; " +
            $"{many.Candidates} candidates: {many.MaxHeld / 1e6:0.00} MB, {many.Networks} networks; the largest network's buffers: {many.LargestNetwork / 1e6:0.00} MB");
        Assert.True(many.Candidates >= 2 * few.Candidates, $"{many.Candidates} candidates scored against {few.Candidates}: the test needs many more");
        // The original network (the teacher) may hold its buffers while a candidate is built beside it, never more.
        Assert.True(many.MaxHeld <= few.MaxHeld + many.LargestNetwork / 10,
            $"with {many.Candidates} candidates {many.MaxHeld} bytes were held by earlier networks at a build; with {few.Candidates}, {few.MaxHeld}");
        Assert.True(many.MaxHeld <= many.LargestNetwork, $"earlier networks held {many.MaxHeld} bytes at a build, more than one network's buffers ({many.LargestNetwork})");
        Assert.Equal(0, many.HeldAtEnd);
    }

    private sealed record Measure(int Candidates, int Networks, long MaxHeld, long LargestNetwork, long HeldAtEnd);

    private static Measure Run(int cycles)
    {
        var backend = new CountingBackend();
        var options = PipelineTests.Small(PruningStrategy.Acp) with
        {
            // Many distinct structures: a wide, fast swarm over unrounded widths, no capacity floor.
            Swarm = new PsoOptions { Particles = 8, Cycles = cycles, MaxVelocityFraction = 0.5 },
            RoundTo = 1,
            CapacityFloor = 0,
            Finalists = 1,
            FinalistSteps = 2,
            Epochs = 0,
            Backend = backend,
        };
        var result = PruningPipeline.Run(TrainedSmallCnn.Model(), TrainedSmallCnn.Data(), options);
        return new Measure(result.Candidates.Count, backend.Built.Count, backend.MaxHeld, backend.Largest, backend.Built.Sum(n => n.Network.BufferBytes));
    }

    /// <summary>The engine, recording every network it builds and the buffers the earlier ones hold at each build.</summary>
    private sealed record CountingBackend : IComputeBackend
    {
        public List<EngineNetwork> Built { get; } = [];

        public long MaxHeld { get; private set; }

        public long Largest { get; private set; }

        public string Name => "engine";

        public string Device => "cpu";

        public ITrainableNetwork Build(OnnxModel model, int seed)
        {
            var held = Built.Sum(n => n.Network.BufferBytes);
            MaxHeld = Math.Max(MaxHeld, held);
            Largest = Math.Max(Largest, Built.Count == 0 ? 0 : Built.Max(n => n.Network.BufferBytes));
            var network = (EngineNetwork)EngineBackend.Instance.Build(model, seed);
            Built.Add(network);
            return new Observed(network, this);
        }

        /// <summary>Notes the network's buffers after every scoring (their largest size) before passing it on.</summary>
        private sealed class Observed(EngineNetwork inner, CountingBackend owner) : ITrainableNetwork
        {
            public IEnumerable<string> ComputedValues => inner.ComputedValues;
            public IReadOnlyList<string> ParameterNames => inner.ParameterNames;
            public Acp.Engine.Tensors.Tensor Forward(int[] shape, ReadOnlySpan<float> images, bool training = false) => inner.Forward(shape, images, training);
            public IDisposable Capture(string value, Action<Acp.Engine.Tensors.Tensor> observer) => inner.Capture(value, observer);
            public void SetChannelMask(string value, bool[]? keep) => inner.SetChannelMask(value, keep);
            public void RefitBatchNorm(IReadOnlyList<Acp.Engine.Tensors.Tensor> batches, CancellationToken cancellation = default) => inner.RefitBatchNorm(batches, cancellation);

            public (int Correct, int Images) Score(IEnumerable<Acp.Data.Batch> batches, CancellationToken cancellation = default)
            {
                var score = inner.Score(batches, cancellation);
                owner.Largest = Math.Max(owner.Largest, inner.Network.BufferBytes);
                return score;
            }

            public INetworkTrainer CreateTrainer(NetworkTrainingOptions options) => inner.CreateTrainer(options);
            public (int[] Shape, float[] Data) ReadParameter(string name) => inner.ReadParameter(name);
            public void WriteParameter(string name, ReadOnlySpan<float> data) => inner.WriteParameter(name, data);
            public void WriteWeightsTo(OnnxModel model) => inner.WriteWeightsTo(model);
            public void ReleaseBuffers() => inner.ReleaseBuffers();
            public void Dispose() => inner.Dispose();
        }
    }
}
