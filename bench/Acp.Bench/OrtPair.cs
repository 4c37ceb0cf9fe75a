// ONNX Runtime latency of two models (an original and its pruned copy) in alternating blocks, for the speed-up
// against MAC reduction of bench/surgery_speedup.sh: both sessions stay open, each round runs a block of --runs
// timed runs of one model then the other (order reversed on odd rounds, the first run of every block dropped), and
// the speed-up is the median over rounds of the per-round ratio of block medians, so the host's drift (the machine is
// shared) hits both sides of each ratio alike. Usage:
//   dotnet run -c Release --project bench/Acp.Bench -- --ort-pair ORIGINAL.onnx PRUNED.onnx [--batch 8] [--threads 2]
//                                                     [--rounds 9] [--runs 5]
// Prints one JSON object: MACs and parameters of both, median latencies, the speed-up with its quartiles and range.
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Acp.Onnx.Analysis;
using Acp.Onnx.Ir;
using Acp.Onnx.Runtime;
using Microsoft.ML.OnnxRuntime;

internal static class OrtPair
{
    public static int Run(string[] args, BenchOptions options)
    {
        var at = Array.IndexOf(args, "--ort-pair");
        if (at + 2 >= args.Length) throw new ArgumentException("--ort-pair takes two model files.");
        var paths = new[] { args[at + 1], args[at + 2] };
        var runs = Array.IndexOf(args, "--runs") is var r && r >= 0 && r + 1 < args.Length ? int.Parse(args[r + 1], CultureInfo.InvariantCulture) : 5;
        var models = paths.Select(OnnxModel.Load).ToArray();
        var sides = models.Select(m => new Side(m, options.Batch, options.Threads)).ToArray();
        try
        {
            foreach (var side in sides) side.Block(3);
            var perRound = new List<double[]>();
            for (var round = 0; round < options.Rounds; round++)
            {
                var times = new double[2];
                foreach (var i in round % 2 == 0 ? new[] { 0, 1 } : [1, 0]) times[i] = Median(sides[i].Block(runs + 1).Skip(1));
                perRound.Add(times);
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"round {round + 1}/{options.Rounds}: {times[0]:0.0} ms, {times[1]:0.0} ms"));
            }
            var ratios = perRound.Select(t => t[0] / t[1]).Order().ToArray();
            var costs = models.Select(m => ModelCost.Compute(m, ShapeInference.Run(m))).ToArray();
            var report = new Dictionary<string, object>
            {
                ["models"] = paths,
                ["batch"] = options.Batch,
                ["threads"] = options.Threads,
                ["rounds"] = options.Rounds,
                ["runs_per_block"] = runs,
                ["ort_version"] = OrtRuntime.Version,
                ["macs"] = costs.Select(c => c.TotalMacs).ToArray(),
                ["params"] = costs.Select(c => c.TotalParams).ToArray(),
                ["median_ms"] = new[] { Median(perRound.Select(t => t[0])), Median(perRound.Select(t => t[1])) },
                ["speedup"] = Median(ratios),
                ["speedup_q1"] = Quantile(ratios, 0.25),
                ["speedup_q3"] = Quantile(ratios, 0.75),
                ["speedup_min"] = ratios[0],
                ["speedup_max"] = ratios[^1],
                ["mac_reduction"] = costs[0].TotalMacs / (double)costs[1].TotalMacs,
                ["per_round_ms"] = perRound,
            };
            Console.WriteLine(JsonSerializer.Serialize(report));
            return 0;
        }
        finally
        {
            foreach (var side in sides) side.Dispose();
        }
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static double Quantile(double[] sorted, double q)
    {
        var position = (sorted.Length - 1) * q;
        var low = (int)position;
        var high = Math.Min(low + 1, sorted.Length - 1);
        return sorted[low] + (sorted[high] - sorted[low]) * (position - low);
    }

    /// <summary>One model's open session and random input.</summary>
    private sealed class Side : IDisposable
    {
        private readonly InferenceSession _session;
        private readonly OrtValue _input;
        private readonly string _inputName;
        private readonly RunOptions _runOptions = new();

        public Side(OnnxModel model, int batch, int threads)
        {
            _session = new OrtSessionSettings { IntraOpThreads = threads, InterOpThreads = 1 }.CreateSession(model.ToBytes());
            var input = model.Graph.RuntimeInputs.Single();
            _inputName = input.Name;
            var shape = input.Shape!.Select(d => d.Value ?? batch).ToArray();
            var data = new float[shape.Aggregate(1L, (a, b) => a * b)];
            var random = new Random(0);
            for (var i = 0; i < data.Length; i++) data[i] = (float)(random.NextDouble() * 2 - 1);
            _input = OrtValue.CreateTensorValueFromMemory(data, shape);
        }

        public double[] Block(int runs)
        {
            var times = new double[runs];
            for (var i = 0; i < runs; i++)
            {
                var started = Stopwatch.GetTimestamp();
                using (_session.Run(_runOptions, [_inputName], [_input], _session.OutputNames))
                {
                    times[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                }
            }
            return times;
        }

        public void Dispose()
        {
            _runOptions.Dispose();
            _input.Dispose();
            _session.Dispose();
        }
    }
}
