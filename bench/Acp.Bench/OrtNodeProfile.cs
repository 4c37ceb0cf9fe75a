// Per-node ONNX Runtime profile of one or more models (SessionOptions.EnableProfiling), to see where a pruned model's
// latency goes compared with its original: time per operator kind (after the runtime's fusions, e.g. FusedConv and
// the NCHWc reorders), and per convolution with its MACs, so layers that run slower per MAC than the rest stand out.
// Usage:
//   dotnet run -c Release --project bench/Acp.Bench -- --ort-profile MODEL.onnx [MORE.onnx ...] [--batch 8] [--threads 2]
//                                                     [--runs 10] [--per-node]
// Runs the models in turn (warm-up, then --runs profiled runs each); times are the median per run of each node.
using System.Globalization;
using System.Text.Json;
using Acp.Onnx.Analysis;
using Acp.Onnx.Ir;
using Acp.Onnx.Runtime;
using Microsoft.ML.OnnxRuntime;

internal static class OrtNodeProfile
{
    public static int Run(string[] args, BenchOptions options)
    {
        var models = new List<string>();
        for (var i = Array.IndexOf(args, "--ort-profile") + 1; i < args.Length && !args[i].StartsWith("--", StringComparison.Ordinal); i++) models.Add(args[i]);
        if (models.Count == 0) throw new ArgumentException("--ort-profile takes one or more model files.");
        var runs = Array.IndexOf(args, "--runs") is var r && r >= 0 && r + 1 < args.Length ? int.Parse(args[r + 1], CultureInfo.InvariantCulture) : 10;
        var perNode = args.Contains("--per-node");
        foreach (var path in models)
        {
            var model = OnnxModel.Load(path);
            var macs = ConvMacs(model);
            var totalMacs = ModelCost.Compute(model, ShapeInference.Run(model)).TotalMacs * options.Batch;
            var (byKind, byNode, total) = Profile(model, options.Batch, options.Threads, runs);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{Path.GetFileName(path)}: batch {options.Batch}, {options.Threads} thread(s), {runs} runs; sum of node medians {total:0.00} ms, {totalMacs / 1e9:0.000} GMAC"));
            Console.WriteLine($"  {"operator",-22} {"ms",9} {"share",7}");
            foreach (var (kind, ms) in byKind.OrderByDescending(kv => kv.Value))
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {kind,-22} {ms,9:0.00} {ms / total,7:P1}"));
            }
            if (!perNode) continue;
            Console.WriteLine($"  {"node",-48} {"op",-14} {"ms",8} {"MMAC",8} {"GMAC/s",7}");
            foreach (var (node, (op, ms)) in byNode.OrderByDescending(kv => kv.Value.Ms))
            {
                // ORT renames fused nodes; the original Conv's name is kept in most cases (FusedConv keeps the Conv's).
                var nodeMacs = macs.TryGetValue(node, out var m) ? m * options.Batch : 0;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  {Truncate(node, 48),-48} {op,-14} {ms,8:0.00} {nodeMacs / 1e6,8:0.0} {(nodeMacs > 0 ? nodeMacs / ms / 1e6 : 0),7:0.0}"));
            }
        }
        return 0;
    }

    private static string Truncate(string s, int n) => s.Length <= n ? s : "…" + s[^(n - 1)..];

    /// <summary>
    /// MACs at batch 1 of every Conv and Gemm (Acp's own cost model), by the names ONNX Runtime gives the nodes it runs:
    /// the node's name, and the value a fused chain ends in (ORT names an NCHWc convolution after the output of the
    /// last node it absorbed, e.g. a Relu, plus "_nchwc"), traced back through Relu and Add to the convolution.
    /// </summary>
    private static Dictionary<string, long> ConvMacs(OnnxModel model)
    {
        var cost = ModelCost.Compute(model, ShapeInference.Run(model));
        var macs = new Dictionary<string, long>(StringComparer.Ordinal);
        var producer = model.Graph.Nodes.SelectMany(n => n.Outputs.Select(o => (o, n))).GroupBy(p => p.o).ToDictionary(g => g.Key, g => g.First().n);
        var ownMacs = cost.Nodes.Where(n => n.Macs > 0).GroupBy(n => n.Node).ToDictionary(g => g.Key, g => g.Sum(n => n.Macs ?? 0));
        foreach (var (node, m) in ownMacs)
        {
            macs[node.Name] = m;
            foreach (var output in node.Outputs) macs[output + "_nchwc"] = m;
        }
        foreach (var node in model.Graph.Nodes.Where(n => n.OpType is "Relu" or "Add"))
        {
            // The first input made by a costed node, through at most one more Add or Relu.
            foreach (var input in node.Inputs)
            {
                var source = producer.GetValueOrDefault(input);
                if (source is { OpType: "Add" or "Relu" }) source = source.Inputs.Select(i => producer.GetValueOrDefault(i)).FirstOrDefault(p => p is not null && ownMacs.ContainsKey(p));
                if (source is not null && ownMacs.TryGetValue(source, out var m))
                {
                    macs.TryAdd(node.Outputs[0] + "_nchwc", m);
                    break;
                }
            }
        }
        return macs;
    }

    private static (Dictionary<string, double> ByKind, Dictionary<string, (string Op, double Ms)> ByNode, double Total) Profile(OnnxModel model, int batch, int threads, int runs)
    {
        var prefix = Path.Combine(Path.GetTempPath(), $"acp-ort-profile-{Environment.ProcessId}-{Guid.NewGuid():N}");
        var settings = new OrtSessionSettings { IntraOpThreads = threads, InterOpThreads = 1 };
        using var sessionOptions = settings.CreateSessionOptions();
        sessionOptions.EnableProfiling = true;
        sessionOptions.ProfileOutputPathPrefix = prefix;
        using var session = new InferenceSession(model.ToBytes(), sessionOptions);
        var input = model.Graph.RuntimeInputs.Single();
        var shape = input.Shape!.Select(d => d.Value ?? batch).ToArray();
        var data = new float[shape.Aggregate(1L, (a, b) => a * b)];
        var random = new Random(0);
        for (var i = 0; i < data.Length; i++) data[i] = (float)(random.NextDouble() * 2 - 1);
        using var value = OrtValue.CreateTensorValueFromMemory(data, shape);
        using var runOptions = new RunOptions();
        for (var i = 0; i < 3 + runs; i++)
        {
            using var _ = session.Run(runOptions, [input.Name], [value], session.OutputNames);
        }
        var file = session.EndProfiling();
        try
        {
            // Chrome trace events: one "Node" event per node per run, named "<node>_kernel_time", args.op_name.
            using var trace = JsonDocument.Parse(File.ReadAllText(file));
            var samples = new Dictionary<string, (string Op, List<double> Us)>();
            foreach (var e in trace.RootElement.EnumerateArray())
            {
                if (e.GetProperty("cat").GetString() != "Node") continue;
                var name = e.GetProperty("name").GetString() ?? "";
                if (!name.EndsWith("_kernel_time", StringComparison.Ordinal)) continue;
                var node = name[..^"_kernel_time".Length];
                var op = e.TryGetProperty("args", out var a) && a.TryGetProperty("op_name", out var o) ? o.GetString() ?? "?" : "?";
                if (!samples.TryGetValue(node, out var list)) samples[node] = list = (op, []);
                list.Us.Add(e.GetProperty("dur").GetDouble());
            }
            // Warm-up runs are the first three samples of every node.
            var byNode = samples.ToDictionary(kv => kv.Key, kv => (kv.Value.Op, Ms: Median(kv.Value.Us.Skip(3)) / 1000));
            var byKind = byNode.Values.GroupBy(v => v.Op).ToDictionary(g => g.Key, g => g.Sum(v => v.Ms));
            return (byKind, byNode, byKind.Values.Sum());
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0) return 0;
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
