using Acp.Onnx.Ir;

namespace Acp.Onnx.Analysis;

/// <summary>
/// Shape rules of element-wise operators: unary ones keep the input shape, multi-input ones broadcast numpy-style.
/// Integer and float arithmetic on small constants is folded, since exporters compute shapes with it.
/// </summary>
internal static class ElementwiseRules
{
    private static readonly string[] Unary =
    [
        "Relu", "LeakyRelu", "Elu", "Selu", "Celu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Erf", "Gelu", "Mish",
        "Softplus", "Softsign", "Sqrt", "Exp", "Log", "Neg", "Abs", "Floor", "Ceil", "Round", "Reciprocal", "Sign",
        "Sin", "Cos", "Not", "Identity", "Clip", "Softmax", "LogSoftmax", "Hardmax", "LRN",
    ];

    private static readonly Dictionary<string, (Func<long, long>? Int, Func<float, float>? Float)> UnaryFolds = new()
    {
        ["Identity"] = (v => v, v => v),
        ["Neg"] = (v => -v, v => -v),
        ["Abs"] = (v => Math.Abs(v), MathF.Abs),
        ["Floor"] = (null, MathF.Floor),
        ["Ceil"] = (null, MathF.Ceiling),
        ["Sqrt"] = (null, MathF.Sqrt),
    };

    private static readonly Dictionary<string, (Func<long, long, long> Int, Func<float, float, float> Float)> Arithmetic = new()
    {
        ["Add"] = ((a, b) => checked(a + b), (a, b) => a + b),
        ["Sum"] = ((a, b) => checked(a + b), (a, b) => a + b),
        ["Sub"] = ((a, b) => checked(a - b), (a, b) => a - b),
        ["Mul"] = ((a, b) => checked(a * b), (a, b) => a * b),
        // Integer Div truncates toward zero, as onnxruntime does.
        ["Div"] = ((a, b) => a / b, (a, b) => a / b),
        ["Pow"] = ((a, b) => checked((long)Math.Pow(a, b)), MathF.Pow),
        ["Max"] = (Math.Max, MathF.Max),
        ["Min"] = (Math.Min, MathF.Min),
    };

    private static readonly Dictionary<string, Func<int, bool>> Comparisons = new()
    {
        ["Equal"] = c => c == 0,
        ["Greater"] = c => c > 0,
        ["GreaterOrEqual"] = c => c >= 0,
        ["Less"] = c => c < 0,
        ["LessOrEqual"] = c => c <= 0,
    };

    public static void Register(Dictionary<string, Action<NodeContext>> rules)
    {
        foreach (var op in Unary) rules[op] = SameShape;
        rules["Cast"] = Cast;
        rules["Dropout"] = Dropout;
        rules["PRelu"] = PRelu;
        rules["Where"] = Where;
        foreach (var (op, fold) in Arithmetic) rules[op] = context => Broadcasting(context, null, (a, b) => Combine(a, b, fold.Int, fold.Float));
        foreach (var op in new[] { "Mod", "Mean" }) rules[op] = context => Broadcasting(context, null, null);
        foreach (var (op, test) in Comparisons) rules[op] = context => Broadcasting(context, ElementType.Bool, (a, b) => Compare(a, b, test));
        foreach (var op in new[] { "And", "Or", "Xor" }) rules[op] = context => Broadcasting(context, ElementType.Bool, null);
    }

    private static void SameShape(NodeContext context) =>
        context.Output(0, context.Shape(0), value: FoldUnary(context.Node.OpType, context.Constant(0)));

    private static OnnxTensor? FoldUnary(string op, OnnxTensor? input)
    {
        if (input is null || !UnaryFolds.TryGetValue(op, out var fold)) return null;
        if (input.IsInteger && fold.Int is { } ints) return Folding.Ints(input.Dims, Array.ConvertAll(input.Int64s, v => ints(v)));
        if (input.IsFloat && fold.Float is { } floats) return Folding.Floats(input.Dims, Array.ConvertAll(input.Floats, v => floats(v)));
        return null;
    }

    /// <summary>Output 0 like the input; the optional mask output like it too, bool.</summary>
    private static void Dropout(NodeContext context)
    {
        context.Output(0, context.Shape(0));
        context.Output(1, context.Shape(0), ElementType.Bool);
    }

    /// <summary>Same shape, element type from the <c>to</c> attribute; small float and integer constants are converted.</summary>
    private static void Cast(NodeContext context)
    {
        var to = (ElementType)(context.Node.Attribute("to")?.Int ?? throw new ShapeRuleException("attribute 'to' is missing"));
        context.Output(0, context.Shape(0), to, context.Constant(0) is { } input ? Convert(input, to) : null);
    }

    private static OnnxTensor? Convert(OnnxTensor input, ElementType to)
    {
        if (to is ElementType.Float or ElementType.Double or ElementType.Float16 or ElementType.BFloat16)
        {
            return input.IsFloat ? input : Folding.Floats(input.Dims, Array.ConvertAll(input.Int64s, v => (float)v));
        }
        if (to == ElementType.Bool)
        {
            return input.IsFloat
                ? Folding.Ints(input.Dims, Array.ConvertAll(input.Floats, v => v != 0 ? 1L : 0L))
                : Folding.Ints(input.Dims, Array.ConvertAll(input.Int64s, v => v != 0 ? 1L : 0L));
        }
        if (to is ElementType.Int64 or ElementType.Int32 or ElementType.Int16 or ElementType.Int8
            or ElementType.UInt64 or ElementType.UInt32 or ElementType.UInt16 or ElementType.UInt8)
        {
            // Float to integer truncates toward zero, like C casts and onnxruntime.
            return input.IsInteger ? input : Folding.Ints(input.Dims, Array.ConvertAll(input.Floats, v => (long)v));
        }
        return null;
    }

    /// <summary>X and a slope that broadcasts to X (unidirectionally) → X's shape.</summary>
    private static void PRelu(NodeContext context)
    {
        var x = context.Shape(0);
        var slope = context.Shape(1);
        if (ShapeMath.Broadcast(x, slope) is not { } result || !result.SequenceEqual(x))
        {
            throw new ShapeRuleException($"the slope {ShapeMath.Format(slope)} does not broadcast to the input {ShapeMath.Format(x)}");
        }
        context.Output(0, x);
    }

    /// <summary>Condition, X and Y broadcast together; the type is X's.</summary>
    private static void Where(NodeContext context)
    {
        var shape = ShapeMath.BroadcastAll([context.Shape(0), context.Shape(1), context.Shape(2)]);
        OnnxTensor? value = null;
        if (context.Constant(0) is { IsInteger: true } condition && context.Constant(1) is { } x && context.Constant(2) is { } y
            && x.IsFloat == y.IsFloat && Folding.Fits(shape))
        {
            var c = Folding.BroadcastSources(shape, condition.Dims);
            var pickX = Folding.BroadcastSources(shape, x.Dims);
            var pickY = Folding.BroadcastSources(shape, y.Dims);
            value = x.IsFloat
                ? Folding.Floats(shape, Enumerable.Range(0, c.Length).Select(i => condition.Int64s[c[i]] != 0 ? x.Floats[pickX[i]] : y.Floats[pickY[i]]).ToArray())
                : Folding.Ints(shape, Enumerable.Range(0, c.Length).Select(i => condition.Int64s[c[i]] != 0 ? x.Int64s[pickX[i]] : y.Int64s[pickY[i]]).ToArray());
        }
        context.Output(0, shape, context.TypeOf(1), value);
    }

    /// <summary>All inputs broadcast together; when every input is a known constant, <paramref name="fold"/> combines them pairwise.</summary>
    private static void Broadcasting(NodeContext context, ElementType? type, Func<OnnxTensor, OnnxTensor, OnnxTensor?>? fold)
    {
        var inputs = Enumerable.Range(0, context.Node.Inputs.Count).Where(context.Has).ToList();
        if (inputs.Count == 0) throw new ShapeRuleException("has no inputs");
        var shape = ShapeMath.BroadcastAll(inputs.Select(context.Shape).ToList());
        OnnxTensor? value = null;
        if (fold is not null && Folding.Fits(shape))
        {
            value = context.Constant(inputs[0]);
            foreach (var i in inputs.Skip(1))
            {
                value = value is not null && context.Constant(i) is { } next ? fold(value, next) : null;
            }
        }
        context.Output(0, shape, type, value);
    }

    private static OnnxTensor? Combine(OnnxTensor a, OnnxTensor b, Func<long, long, long> ints, Func<float, float, float> floats)
    {
        var shape = ShapeMath.Broadcast(a.Dims, b.Dims)!;
        var pickA = Folding.BroadcastSources(shape, a.Dims);
        var pickB = Folding.BroadcastSources(shape, b.Dims);
        try
        {
            if (a.IsInteger && b.IsInteger) return Folding.Ints(shape, Enumerable.Range(0, pickA.Length).Select(i => ints(a.Int64s[pickA[i]], b.Int64s[pickB[i]])).ToArray());
            if (a.IsFloat && b.IsFloat) return Folding.Floats(shape, Enumerable.Range(0, pickA.Length).Select(i => floats(a.Floats[pickA[i]], b.Floats[pickB[i]])).ToArray());
        }
        catch (Exception e) when (e is DivideByZeroException or OverflowException)
        {
            // The shape is still right; only the contents are unknowable (the model would fail at run time too).
        }
        return null;
    }

    private static OnnxTensor? Compare(OnnxTensor a, OnnxTensor b, Func<int, bool> test)
    {
        var shape = ShapeMath.Broadcast(a.Dims, b.Dims)!;
        var pickA = Folding.BroadcastSources(shape, a.Dims);
        var pickB = Folding.BroadcastSources(shape, b.Dims);
        if (a.IsInteger && b.IsInteger) return Folding.Ints(shape, Enumerable.Range(0, pickA.Length).Select(i => test(a.Int64s[pickA[i]].CompareTo(b.Int64s[pickB[i]])) ? 1L : 0L).ToArray());
        if (a.IsFloat && b.IsFloat) return Folding.Ints(shape, Enumerable.Range(0, pickA.Length).Select(i => test(a.Floats[pickA[i]].CompareTo(b.Floats[pickB[i]])) ? 1L : 0L).ToArray());
        return null;
    }
}
