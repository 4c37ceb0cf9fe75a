using Acp.Onnx.Ir;

namespace Acp.MLNet;

/// <summary>
/// Turns a pruned classifier into the model ML.NET's OnnxTransformer scores: its input named after the feature column,
/// a <c>Score</c> output of class probabilities in the label column's key order, and the index of the best slot (which a
/// built-in ValueToKeyMapping turns into the <c>PredictedLabel</c> key).
/// </summary>
/// <remarks>
/// Everything the ML.NET scorer needs lives in the ONNX graph, because only ML.NET's own transformers can be saved
/// into a model zip that loads without Acp's assembly.
/// </remarks>
internal static class ScoringModel
{
    private const string Prefix = "acp.scoring.";

    /// <summary>The scoring graph around a copy of <paramref name="classifier"/>.</summary>
    /// <param name="classifier">The pruned model (not modified).</param>
    /// <param name="signature">Its input and output.</param>
    /// <param name="columns">The ML.NET column names of input and outputs.</param>
    /// <param name="classOfSlot">Slot s of <c>Score</c> holds the model's class classOfSlot[s] (the label's key s + 1).</param>
    /// <exception cref="ArgumentException">A column name is already the name of a value inside the model.</exception>
    public static OnnxModel Build(OnnxModel classifier, ImageModelSignature signature, ScoringColumns columns, IReadOnlyList<int> classOfSlot)
    {
        var model = classifier.Clone();
        var graph = model.Graph;
        var taken = graph.Nodes.SelectMany(n => n.Outputs).Concat(graph.Inputs.Select(i => i.Name)).Concat(graph.Initializers.Select(t => t.Name)).ToHashSet();
        foreach (var name in new[] { columns.Score, columns.PredictedIndex })
        {
            if (taken.Contains(name)) throw new ArgumentException($"The model already has a value named '{name}'; choose another output column name.", nameof(columns));
        }

        if (columns.Features != signature.InputName)
        {
            if (taken.Contains(columns.Features)) throw new ArgumentException($"The model already has a value named '{columns.Features}'; choose another feature column name.", nameof(columns));
            foreach (var input in graph.Inputs.Where(i => i.Name == signature.InputName)) input.Name = columns.Features;
            foreach (var node in graph.Nodes)
            {
                for (var i = 0; i < node.Inputs.Count; i++)
                {
                    if (node.Inputs[i] == signature.InputName) node.Inputs[i] = columns.Features;
                }
            }
        }

        // ML.NET's evaluators read Score as probabilities (log-loss), as its own trainers produce them.
        var logits = signature.OutputName;
        var producer = graph.Nodes.LastOrDefault(n => n.Outputs.Contains(logits));
        var probabilities = logits;
        if (producer?.OpType != "Softmax")
        {
            probabilities = Prefix + "probabilities";
            graph.Nodes.Add(new Node(Prefix + "softmax", "Softmax", [logits], [probabilities], [NodeAttribute.FromInt("axis", 1)]));
        }

        var identity = classOfSlot.Select((c, s) => c == s).All(x => x);
        if (identity)
        {
            graph.Nodes.Add(new Node(Prefix + "score", "Identity", [probabilities], [columns.Score]));
        }
        else
        {
            var order = Prefix + "key_order";
            graph.Initializers.Add(OnnxTensor.FromInt64s(order, [classOfSlot.Count], classOfSlot.Select(c => (long)c).ToArray()));
            graph.Nodes.Add(new Node(Prefix + "score", "Gather", [probabilities, order], [columns.Score], [NodeAttribute.FromInt("axis", 1)]));
        }

        // The best slot as a one-element vector: ML.NET's OnnxTransformer reads every tensor output as a vector (its
        // getter for rank-0 outputs fails), so a key mapping after it makes a one-element key vector.
        graph.Nodes.Add(new Node(Prefix + "argmax", "ArgMax", [columns.Score], [columns.PredictedIndex], [NodeAttribute.FromInt("axis", 1), NodeAttribute.FromInt("keepdims", 1)]));

        graph.Outputs.Clear();
        graph.Outputs.Add(new ValueInfo(columns.Score, ElementType.Float, [Dimension.Symbolic("N"), Dimension.Fixed(classOfSlot.Count)]));
        graph.Outputs.Add(new ValueInfo(columns.PredictedIndex, ElementType.Int64, [Dimension.Symbolic("N"), Dimension.Fixed(1)]));
        model.Validate("the scoring model");
        return model;
    }
}

/// <summary>The ML.NET columns the scoring model reads and writes.</summary>
/// <param name="Features">The input: a float vector of C × H × W.</param>
/// <param name="Score">Class probabilities, in the label's key order.</param>
/// <param name="PredictedLabel">The predicted key.</param>
internal sealed record ScoringColumns(string Features, string Score, string PredictedLabel)
{
    /// <summary>The best slot's index that the key mapping reads; dropped from the output.</summary>
    public string PredictedIndex => PredictedLabel + ".Slot";

    /// <summary>The label value of the best slot, between the slot and the key; dropped from the output.</summary>
    public string PredictedValue => PredictedLabel + ".Value";
}
