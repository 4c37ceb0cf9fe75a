using Acp.Onnx.Ir;
using Acp.Onnx.Runtime;

namespace Acp.Onnx.Tests.Runtime;

public class InferenceSessionTests
{
    private static readonly float[,] W = { { 1, 2 }, { 3, 4 }, { 5, 6 } };

    /// <summary>x · W by hand, for a row x of length 3.</summary>
    private static float[] Expected(params float[] x) =>
        [x[0] * W[0, 0] + x[1] * W[1, 0] + x[2] * W[2, 0], x[0] * W[0, 1] + x[1] * W[1, 1] + x[2] * W[2, 1]];

    private static Dictionary<string, OrtTensor> Inputs(string name, OrtTensor tensor) => new() { [name] = tensor };

    [Fact]
    public void MatMul_output_equals_the_hand_computation()
    {
        using var session = InferenceSession.FromBytes(TinyOnnx.MatMul());

        var outputs = session.Run(Inputs("X", OrtTensor.FromFloat(new float[] { 1, 2, 3 }, 1, 3)));

        var y = Assert.Single(outputs);
        Assert.Equal("Y", y.Name);
        Assert.Equal(ElementType.Float, y.Tensor.ElementType);
        Assert.Equal([1L, 2L], y.Tensor.Shape);
        Assert.Equal(new float[] { 22, 28 }, y.Tensor.FloatData.ToArray());
        Assert.Equal(Expected(1, 2, 3), y.Tensor.FloatData.ToArray());
    }

    [Fact]
    public void An_input_can_be_a_slice_of_a_larger_buffer()
    {
        using var session = InferenceSession.FromBytes(TinyOnnx.MatMul());
        var buffer = new float[] { 99, 1, 2, 3, 99 };

        var outputs = session.Run(Inputs("X", OrtTensor.FromFloat(buffer.AsMemory(1, 3), 1, 3)));

        Assert.Equal(Expected(1, 2, 3), outputs["Y"].FloatData.ToArray());
        Assert.Equal(new float[] { 99, 1, 2, 3, 99 }, buffer);
    }

    [Fact]
    public void All_outputs_come_back_in_model_order_and_a_subset_can_be_requested()
    {
        using var session = InferenceSession.FromBytes(TinyOnnx.MatMulAdd());
        var inputs = Inputs("X", OrtTensor.FromFloat(new float[] { 1, 2, 3 }, 1, 3));

        var all = session.Run(inputs);
        Assert.Equal(["Y", "Z"], all.Select(o => o.Name));
        Assert.Equal(new float[] { 22, 28 }, all["Y"].FloatData.ToArray());
        Assert.Equal(new float[] { 22 - 100, 28 + 0.5f }, all["Z"].FloatData.ToArray());

        var onlyZ = session.Run(inputs, ["Z"]);
        Assert.Equal("Z", Assert.Single(onlyZ).Name);
        Assert.Equal(new float[] { -78, 28.5f }, onlyZ[0].Tensor.FloatData.ToArray());

        var reversed = session.Run(inputs, ["Z", "Y"]);
        Assert.Equal(["Z", "Y"], reversed.Select(o => o.Name));
        Assert.Throws<KeyNotFoundException>(() => onlyZ["Y"]);
    }

    [Fact]
    public void Requesting_an_unknown_or_repeated_output_is_rejected_with_the_names()
    {
        using var session = InferenceSession.FromBytes(TinyOnnx.MatMulAdd());
        var inputs = Inputs("X", OrtTensor.FromFloat(new float[] { 1, 2, 3 }, 1, 3));

        var unknown = Assert.Throws<ArgumentException>(() => session.Run(inputs, ["W"]));
        Assert.Contains("'W'", unknown.Message);
        Assert.Contains("2 output(s): 'Y', 'Z'", unknown.Message);

        var repeated = Assert.Throws<ArgumentException>(() => session.Run(inputs, ["Y", "Y"]));
        Assert.Contains("'Y'", repeated.Message);

        Assert.Throws<ArgumentException>(() => session.Run(inputs, []));
    }

    [Fact]
    public void A_symbolic_batch_dimension_is_reported_and_accepts_any_size()
    {
        using var session = InferenceSession.FromBytes(TinyOnnx.BatchedMatMul());

        var x = Assert.Single(session.InputMetadata);
        Assert.Equal([-1L, 3L], x.Dimensions);
        Assert.Equal(["batch", null], x.SymbolicDimensions);
        Assert.Equal("X: float[batch,3]", x.ToString());

        var outputs = session.Run(Inputs("X", OrtTensor.FromFloat(new float[] { 1, 2, 3, 0, 1, 0 }, 2, 3)));

        var y = outputs["Y"];
        Assert.Equal([2L, 2L], y.Shape);
        Assert.Equal([.. Expected(1, 2, 3), .. Expected(0, 1, 0)], y.FloatData.ToArray());
    }

    [Fact]
    public void Metadata_reports_names_types_and_fixed_dimensions()
    {
        using var session = InferenceSession.FromBytes(TinyOnnx.MatMulAdd());

        var x = Assert.Single(session.InputMetadata);
        Assert.Equal("X", x.Name);
        Assert.True(x.IsTensor);
        Assert.Equal(ElementType.Float, x.ElementType);
        Assert.Equal([1L, 3L], x.Dimensions);
        Assert.Equal([null, null], x.SymbolicDimensions);

        Assert.Equal(["Y", "Z"], session.OutputMetadata.Select(o => o.Name));
        Assert.All(session.OutputMetadata, o => Assert.Equal([1L, 2L], o.Dimensions));
        Assert.Equal("Z: float[1,2]", session.OutputMetadata[1].ToString());
    }

    [Fact]
    public void An_input_without_a_declared_shape_accepts_any_rank()
    {
        using var session = InferenceSession.FromBytes(TinyOnnx.UnshapedRelu());
        var x = Assert.Single(session.InputMetadata);
        Assert.Equal(ElementType.Float, x.ElementType);

        var y = session.Run(Inputs("X", OrtTensor.FromFloat(new float[] { -1, 2, -3, 4, -5, 6 }, 2, 3)))["Y"];

        Assert.Equal([2L, 3L], y.Shape);
        Assert.Equal(new float[] { 0, 2, 0, 4, 0, 6 }, y.FloatData.ToArray());
    }

    [Fact]
    public void Int64_tensors_go_in_and_come_out()
    {
        using var session = InferenceSession.FromBytes(TinyOnnx.Int64Add());
        Assert.Equal(ElementType.Int64, session.InputMetadata[0].ElementType);

        var c = session.Run(Inputs("A", OrtTensor.FromInt64(new long[] { 1, 2, 3 }, 3)))["C"];

        Assert.Equal(ElementType.Int64, c.ElementType);
        Assert.Equal(new long[] { 11, 22, 33 }, c.Int64Data.ToArray());
        Assert.Throws<InvalidOperationException>(() => c.FloatData);
    }

    [Fact]
    public void Several_inputs_are_matched_by_name_not_by_order()
    {
        using var session = InferenceSession.FromBytes(TinyOnnx.TwoInputAdd());
        var inputs = new Dictionary<string, OrtTensor>
        {
            ["Q"] = OrtTensor.FromFloat(new float[] { 10, 20 }, 2),
            ["P"] = OrtTensor.FromFloat(new float[] { 1, 2 }, 2),
        };

        Assert.Equal(new float[] { 11, 22 }, session.Run(inputs)["S"].FloatData.ToArray());
    }

    [Fact]
    public void A_buffer_that_does_not_match_its_shape_is_rejected_with_both_numbers()
    {
        var e = Assert.Throws<ArgumentException>(() => OrtTensor.FromFloat(new float[4], 1, 3));

        Assert.Contains("[1,3]", e.Message);
        Assert.Contains("3 elements", e.Message);
        Assert.Contains("has 4", e.Message);
        Assert.Throws<ArgumentException>(() => OrtTensor.FromFloat(new float[3], 3, -1));
    }

    [Fact]
    public void A_tensor_whose_shape_differs_from_the_model_is_rejected_before_running()
    {
        using var session = InferenceSession.FromBytes(TinyOnnx.MatMul());

        var wrongSize = Assert.Throws<ArgumentException>(() => session.Run(Inputs("X", OrtTensor.FromFloat(new float[4], 1, 4))));
        Assert.Contains("size 3 in dimension 1", wrongSize.Message);
        Assert.Contains("[1,4]", wrongSize.Message);

        var wrongRank = Assert.Throws<ArgumentException>(() => session.Run(Inputs("X", OrtTensor.FromFloat(new float[3], 3))));
        Assert.Contains("rank 2", wrongRank.Message);
        Assert.Contains("rank 1", wrongRank.Message);

        var wrongType = Assert.Throws<ArgumentException>(() => session.Run(Inputs("X", OrtTensor.FromInt64(new long[3], 1, 3))));
        Assert.Contains("float", wrongType.Message);
        Assert.Contains("int64", wrongType.Message);
    }

    [Fact]
    public void Unknown_and_missing_inputs_are_rejected_with_the_names_and_counts()
    {
        using var session = InferenceSession.FromBytes(TinyOnnx.TwoInputAdd());
        var p = OrtTensor.FromFloat(new float[] { 1, 2 }, 2);

        var unknown = Assert.Throws<ArgumentException>(() => session.Run(new Dictionary<string, OrtTensor> { ["p"] = p }));
        Assert.Contains("'p'", unknown.Message);
        Assert.Contains("2 input(s): 'P', 'Q'", unknown.Message);

        var missing = Assert.Throws<ArgumentException>(() => session.Run(Inputs("P", p)));
        Assert.Contains("'Q'", missing.Message);
        Assert.Contains("takes 2 input(s)", missing.Message);
        Assert.Contains("1 were given", missing.Message);
    }

    [Fact]
    public void Garbage_bytes_give_an_OrtException_with_the_runtime_message()
    {
        var garbage = Enumerable.Range(0, 64).Select(i => (byte)(i * 37 + 11)).ToArray();

        var e = Assert.Throws<OrtException>(() => InferenceSession.FromBytes(garbage));

        Assert.Equal(OrtErrorCode.InvalidProtobuf, e.Code);
        Assert.Contains("protobuf", e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void A_graph_the_runtime_refuses_gives_an_OrtException()
    {
        var e = Assert.Throws<OrtException>(() => InferenceSession.FromBytes(TinyOnnx.MismatchedMatMul()));

        Assert.NotEqual(OrtErrorCode.Ok, e.Code);
        Assert.Contains("MatMul", e.Message);
    }

    [Fact]
    public void A_failure_while_running_gives_an_OrtException_and_the_session_stays_usable()
    {
        using var session = InferenceSession.FromBytes(TinyOnnx.Reshape());
        var x = OrtTensor.FromFloat(new float[] { 1, 2, 3, 4, 5, 6 }, 6);
        Dictionary<string, OrtTensor> Feed(params long[] shape) => new() { ["X"] = x, ["S"] = OrtTensor.FromInt64(shape, 2) };

        var e = Assert.Throws<OrtException>(() => session.Run(Feed(4, 4)));
        Assert.NotEqual(OrtErrorCode.Ok, e.Code);
        Assert.Contains("Reshape", e.Message, StringComparison.OrdinalIgnoreCase);

        var y = session.Run(Feed(2, 3))["Y"];
        Assert.Equal([2L, 3L], y.Shape);
        Assert.Equal(new float[] { 1, 2, 3, 4, 5, 6 }, y.FloatData.ToArray());
    }

    [Fact]
    public void An_empty_batch_runs_and_returns_an_empty_tensor()
    {
        using var session = InferenceSession.FromBytes(TinyOnnx.BatchedMatMul());

        var y = session.Run(Inputs("X", OrtTensor.FromFloat(Array.Empty<float>(), 0, 3)))["Y"];

        Assert.Equal([0L, 2L], y.Shape);
        Assert.Equal(0, y.ElementCount);
    }

    [Fact]
    public void Empty_model_bytes_are_rejected_before_the_runtime_sees_them()
    {
        Assert.Throws<ArgumentException>(() => InferenceSession.FromBytes([]));
    }

    [Fact]
    public void A_model_loads_from_a_file()
    {
        var path = Path.Combine(Path.GetTempPath(), $"acp-ort-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, TinyOnnx.MatMul());
        try
        {
            using var session = InferenceSession.FromFile(path, new SessionConfig { IntraOpThreads = 1 });
            Assert.Equal(Expected(4, 5, 6), session.Run(Inputs("X", OrtTensor.FromFloat(new float[] { 4, 5, 6 }, 1, 3)))["Y"].FloatData.ToArray());
        }
        finally
        {
            File.Delete(path);
        }

        var missing = Assert.Throws<FileNotFoundException>(() => InferenceSession.FromFile(path));
        Assert.Contains(path, missing.Message);
    }

    [Theory]
    [InlineData(GraphOptimizationLevel.Disabled, 0, 0, false)]
    [InlineData(GraphOptimizationLevel.Basic, 1, 1, false)]
    [InlineData(GraphOptimizationLevel.Extended, 2, 2, true)]
    [InlineData(GraphOptimizationLevel.All, 0, 2, true)]
    public void Every_config_gives_the_same_answer(GraphOptimizationLevel level, int intra, int inter, bool parallel)
    {
        var config = new SessionConfig { OptimizationLevel = level, IntraOpThreads = intra, InterOpThreads = inter, ParallelExecution = parallel };
        using var session = InferenceSession.FromBytes(TinyOnnx.MatMulAdd(), config);

        var z = session.Run(Inputs("X", OrtTensor.FromFloat(new float[] { 1, 2, 3 }, 1, 3)))["Z"];

        Assert.Equal(new float[] { -78, 28.5f }, z.FloatData.ToArray());
    }

    [Fact]
    public void Out_of_range_settings_are_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => InferenceSession.FromBytes(TinyOnnx.MatMul(), new SessionConfig { IntraOpThreads = -1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => InferenceSession.FromBytes(TinyOnnx.MatMul(), new SessionConfig { InterOpThreads = -2 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => InferenceSession.FromBytes(TinyOnnx.MatMul(), new SessionConfig { OptimizationLevel = (GraphOptimizationLevel)42 }));
    }

    [Fact]
    public void Sessions_survive_many_create_run_dispose_cycles()
    {
        var model = TinyOnnx.MatMul();
        for (var i = 0; i < 100; i++)
        {
            using var session = InferenceSession.FromBytes(model);
            var y = session.Run(Inputs("X", OrtTensor.FromFloat(new float[] { i, 0, 1 }, 1, 3)))["Y"];
            Assert.Equal(Expected(i, 0, 1), y.FloatData.ToArray());
        }
    }

    [Fact]
    public void Dispose_is_idempotent_and_later_runs_throw()
    {
        var session = InferenceSession.FromBytes(TinyOnnx.MatMul());
        session.Dispose();
        session.Dispose();

        Assert.Throws<ObjectDisposedException>(() => session.Run(Inputs("X", OrtTensor.FromFloat(new float[3], 1, 3))));
    }

    [Fact]
    public void Concurrent_runs_on_one_session_give_the_hand_computed_results()
    {
        using var session = InferenceSession.FromBytes(TinyOnnx.MatMul());
        const int Threads = 4;
        const int RunsPerThread = 250;
        using var start = new Barrier(Threads);
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();

        var workers = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            start.SignalAndWait();
            for (var i = 0; i < RunsPerThread; i++)
            {
                float[] x = [t, i, 1];
                var y = session.Run(Inputs("X", OrtTensor.FromFloat(x, 1, 3)))["Y"].FloatData.ToArray();
                var expected = Expected(x);
                if (!y.SequenceEqual(expected))
                {
                    failures.Add($"thread {t} run {i}: got [{string.Join(",", y)}], expected [{string.Join(",", expected)}]");
                }
            }
        })).ToList();
        workers.ForEach(w => w.Start());
        workers.ForEach(w => w.Join());

        Assert.Empty(failures);
    }

    [Fact]
    public void Disposing_while_other_threads_run_lets_them_finish_or_see_ObjectDisposedException()
    {
        var session = InferenceSession.FromBytes(TinyOnnx.MatMul());
        var unexpected = new System.Collections.Concurrent.ConcurrentBag<Exception>();
        var completed = 0;
        using var start = new Barrier(5);

        var workers = Enumerable.Range(0, 4).Select(t => new Thread(() =>
        {
            start.SignalAndWait();
            for (var i = 0; i < 500; i++)
            {
                try
                {
                    var y = session.Run(Inputs("X", OrtTensor.FromFloat(new float[] { 1, 2, 3 }, 1, 3)))["Y"].FloatData.ToArray();
                    if (!y.SequenceEqual(new float[] { 22, 28 }))
                    {
                        unexpected.Add(new InvalidOperationException($"wrong result [{string.Join(",", y)}]"));
                    }

                    Interlocked.Increment(ref completed);
                }
                catch (ObjectDisposedException)
                {
                    return;
                }
                catch (Exception e)
                {
                    unexpected.Add(e);
                    return;
                }
            }
        })).ToList();
        workers.ForEach(w => w.Start());
        start.SignalAndWait();
        Thread.Sleep(5);
        session.Dispose();
        workers.ForEach(w => w.Join());

        Assert.Empty(unexpected);
    }
}
