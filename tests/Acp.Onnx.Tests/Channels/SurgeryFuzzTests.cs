using System.Diagnostics;
using Acp.Onnx.Channels;
using Acp.Onnx.Ir;
using Acp.Onnx.Tests.Support;

namespace Acp.Onnx.Tests.Channels;

/// <summary>
/// Seeded mutations of the small fixture models through load → channel analysis → structure-only surgery (issue 18,
/// item 5). Every outcome is classified: a clean refusal (OnnxModelException, ArgumentException) is fine; any other
/// exception, a case that takes too long, or a pruned model ONNX Runtime refuses although it ran the mutated original,
/// or whose output shape differs from the original's, fails the test with the case's seed to replay it.
/// </summary>
public sealed class SurgeryFuzzTests
{
    /// <summary>Cases of the default run; the nightly trait runs <see cref="NightlyCases"/>.</summary>
    private const int Cases = 2000;

    private const int NightlyCases = 50_000;

    private static readonly TimeSpan CaseLimit = TimeSpan.FromSeconds(10);

    [Fact]
    public void Mutated_fixtures_prune_cleanly() => Run(Cases, firstSeed: 0);

    /// <summary>Opt-in: <c>ACP_NIGHTLY=1 bash scripts/test.sh --filter Category=Nightly</c>.</summary>
    [NightlyFact]
    [Trait("Category", "Nightly")]
    public void Mutated_fixtures_prune_cleanly_nightly() => Run(NightlyCases, firstSeed: 1_000_000);

    private static readonly Lazy<(string Name, byte[] Bytes)[]> Seeds = new(() =>
        Fixtures.EdgeFiles.Where(f => !f.Contains(".noort.", StringComparison.Ordinal)).Append("tiny_cnn.onnx").Append("tiny_mlp.onnx")
            .Select(f => (f, File.ReadAllBytes(Fixtures.PathOf(f))))
            .Append(("TinyModels.Cnn", TinyModels.Cnn().ToBytes()))
            .ToArray());

    private static void Run(int cases, int firstSeed)
    {
        var failures = new List<string>();
        var outcomes = new Dictionary<string, int>();
        for (var seed = firstSeed; seed < firstSeed + cases && failures.Count < 5; seed++)
        {
            var job = Task.Run(() => Case(seed));
            if (!job.Wait(CaseLimit))
            {
                failures.Add($"seed {seed}: took longer than {CaseLimit.TotalSeconds} s");
                break; // the hung case keeps its thread; later cases would only compete with it
            }
            var (outcome, failure) = job.Result;
            outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
            if (failure is not null) failures.Add($"seed {seed}: {failure}");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures) + "\noutcomes: " + string.Join(", ", outcomes.Select(kv => $"{kv.Key} {kv.Value}")));
        // The mutations must leave enough models prunable for the test to mean something.
        Assert.True(outcomes.GetValueOrDefault("pruned and ran") > cases / 5, "outcomes: " + string.Join(", ", outcomes.Select(kv => $"{kv.Key} {kv.Value}")));
    }

    /// <summary>One case: (outcome, failure or null).</summary>
    private static (string Outcome, string? Failure) Case(int seed)
    {
        var random = new Random(seed);
        var (name, bytes) = Seeds.Value[random.Next(Seeds.Value.Length)];
        var mutant = Mutations.Apply(bytes, random, out var what);
        var label = $"{name}, {what}";
        OnnxModel model;
        ChannelSurgeryResult result;
        try
        {
            model = OnnxModel.FromBytes(mutant, name);
            var analysis = ChannelAnalysis.Run(model);
            result = ChannelSurgery.Apply(analysis, OperatorRuleTests.RandomKeep(analysis, seed));
        }
        catch (Exception e) when (e is OnnxModelException or ArgumentException)
        {
            return ("refused", null);
        }
        catch (Exception e)
        {
            return ("crashed", $"{label}: {e.GetType().Name}: {e.Message}\n{e.StackTrace}");
        }

        if (model.Graph.RuntimeInputs.FirstOrDefault()?.Shape is null) return ("pruned, no input shape", null);
        var shape = OrtHarness.InputShape(model, 2);
        if (shape.Any(d => d <= 0) || OnnxTensor.CountElements(shape) is not (> 0 and <= 1 << 20)) return ("pruned, input not runnable", null);
        var input = OrtHarness.RandomInput(shape, seed);
        var (originalShape, _) = OrtHarness.TryRun(model, input, shape);
        if (originalShape is null) return ("pruned, original refused by ORT", null);
        var (prunedShape, refusal) = OrtHarness.TryRun(result.Model, input, shape);
        if (prunedShape is null) return ("surgery bug", $"{label}: ONNX Runtime runs the mutated model but refuses the pruned one: {refusal}");
        if (!prunedShape.SequenceEqual(originalShape))
        {
            return ("surgery bug", $"{label}: output shape [{string.Join(",", prunedShape)}] after pruning, [{string.Join(",", originalShape)}] before");
        }
        return ("pruned and ran", null);
    }
}

/// <summary>
/// The mutations: attribute edits where surgery has to keep a node consistent (padding, strides, dilations, groups,
/// auto_pad), shape and operator changes, and raw byte edits like the loading fuzz test's.
/// </summary>
internal static class Mutations
{
    private static readonly string[] AutoPads = ["NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"];
    private static readonly string[] Activations = ["Relu", "Sigmoid", "Tanh", "Identity", "LeakyRelu"];

    public static byte[] Apply(byte[] original, Random random, out string what)
    {
        if (random.Next(5) == 0) return Bytes(original, random, out what);
        OnnxModel model;
        try
        {
            model = OnnxModel.FromBytes(original, "seed");
        }
        catch (OnnxModelException)
        {
            what = "unmodified";
            return original;
        }
        var edits = new List<string>();
        for (var n = 1 + random.Next(3); n > 0; n--) edits.Add(Edit(model, random));
        what = string.Join("; ", edits);
        return model.ToBytes();
    }

    private static string Edit(OnnxModel model, Random random)
    {
        var nodes = model.Graph.Nodes;
        var node = nodes[random.Next(nodes.Count)];
        var windowed = nodes.Where(n => n.OpType is "Conv" or "MaxPool" or "AveragePool" or "ConvTranspose").ToList();
        var window = windowed.Count > 0 ? windowed[random.Next(windowed.Count)] : node;
        var rank = Math.Max(1, window.GetInts("kernel_shape")?.Length ?? 2);
        switch (random.Next(9))
        {
            case 0:
                var pad = AutoPads[random.Next(AutoPads.Length)];
                window.SetAttribute(NodeAttribute.FromString("auto_pad", pad));
                return $"{window.DisplayName}.auto_pad={pad}";
            case 1:
                var pads = Enumerable.Range(0, 2 * rank).Select(_ => (long)random.Next(3)).ToArray();
                window.SetAttribute(NodeAttribute.FromInts("pads", pads));
                return $"{window.DisplayName}.pads=[{string.Join(",", pads)}]";
            case 2:
                var strides = Enumerable.Range(0, rank).Select(_ => (long)random.Next(1, 4)).ToArray();
                window.SetAttribute(NodeAttribute.FromInts("strides", strides));
                return $"{window.DisplayName}.strides=[{string.Join(",", strides)}]";
            case 3:
                var dilations = Enumerable.Range(0, rank).Select(_ => (long)random.Next(1, 3)).ToArray();
                window.SetAttribute(NodeAttribute.FromInts("dilations", dilations));
                return $"{window.DisplayName}.dilations=[{string.Join(",", dilations)}]";
            case 4:
                var group = (long)random.Next(1, 5);
                window.SetAttribute(NodeAttribute.FromInt("group", group));
                return $"{window.DisplayName}.group={group}";
            case 5:
                if (node.Attributes.Count == 0) return "no attribute to remove";
                var removed = node.Attributes[random.Next(node.Attributes.Count)];
                node.Attributes.Remove(removed);
                return $"{node.DisplayName} without {removed.Name}";
            case 6:
                if (!Activations.Contains(node.OpType)) return $"{node.DisplayName} kept its operator";
                var op = Activations[random.Next(Activations.Length)];
                node.OpType = op;
                node.Attributes.Clear();
                return $"{node.DisplayName} became {op}";
            case 7:
                var input = model.Graph.RuntimeInputs.FirstOrDefault();
                if (input?.Shape is not { Length: > 0 } dims) return "no input shape";
                var axis = random.Next(dims.Length);
                var size = random.Next(1, 13);
                input.Shape = dims.Select((d, i) => i == axis ? Dimension.Fixed(size) : d).ToArray();
                return $"input dim {axis}={size}";
            default:
                var kernel = Enumerable.Range(0, rank).Select(_ => (long)random.Next(1, 4)).ToArray();
                window.SetAttribute(NodeAttribute.FromInts("kernel_shape", kernel));
                return $"{window.DisplayName}.kernel_shape=[{string.Join(",", kernel)}]";
        }
    }

    private static byte[] Bytes(byte[] original, Random random, out string what)
    {
        var bytes = (byte[])original.Clone();
        var edits = new List<string>();
        for (var n = 1 + random.Next(3); n > 0; n--)
        {
            var at = random.Next(bytes.Length);
            bytes[at] = (byte)random.Next(256);
            edits.Add($"byte {at}={bytes[at]}");
        }
        what = string.Join("; ", edits);
        return bytes;
    }
}
